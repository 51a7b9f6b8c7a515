from . import test_amqp_broker_config, test_amqp_inbound, test_amqp_outbound
from . import test_amqp_broker_access
