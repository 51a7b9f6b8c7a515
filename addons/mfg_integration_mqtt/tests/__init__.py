from . import test_mqtt_outbound
from . import test_mqtt_inbound
from . import test_mqtt_monitoring
from . import test_mqtt_broker_access
