from . import test_shop_floor_loop
