from . import test_supplier_loop
from . import test_delivery
from . import test_supplier_replays
