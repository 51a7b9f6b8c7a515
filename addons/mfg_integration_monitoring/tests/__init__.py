from . import test_dashboard
from . import test_sla_alerts
from . import test_access
from . import test_monitoring_api
from . import test_tour
