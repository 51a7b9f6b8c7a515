from . import mfg_integration_message
from . import mfg_integration_dashboard
from . import mfg_integration_sla
from . import mfg_integration_alert
from . import mfg_integration_system
from . import mfg_integration_endpoint
