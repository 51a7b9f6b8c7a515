from . import mfg_integration_reconciliation_tolerance
from . import mfg_integration_reconciliation_run
from . import mfg_integration_reconciliation_page
from . import mfg_integration_reconciliation_line
from . import mfg_integration_system
from . import mfg_integration_sla
from . import mfg_integration_alert
from . import mfg_integration_dashboard
