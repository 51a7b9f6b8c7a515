from . import test_inventory_events
from . import test_inventory_reports
