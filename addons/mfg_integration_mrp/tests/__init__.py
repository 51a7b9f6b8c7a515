from . import test_shop_floor_loop
from . import test_production_events
from . import test_mapped_codes
from . import test_shop_floor_protocol
from . import test_report_groups
