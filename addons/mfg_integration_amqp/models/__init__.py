from . import mfg_integration_amqp_broker, mfg_integration_endpoint
