from . import test_supplier_loop
