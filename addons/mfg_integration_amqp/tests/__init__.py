from . import test_amqp_outbound, test_amqp_broker_config
