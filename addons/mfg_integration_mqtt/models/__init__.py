from . import mfg_integration_mqtt_broker
from . import mfg_integration_endpoint
from . import mfg_integration_system
from . import mfg_integration_message
