from . import test_inventory_events
from . import test_inventory_reports
from . import test_warehouse_protocol
