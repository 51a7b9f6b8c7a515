from . import test_mqtt_outbound
from . import test_mqtt_inbound
