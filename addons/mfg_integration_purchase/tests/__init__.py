from . import test_supplier_loop
from . import test_delivery
