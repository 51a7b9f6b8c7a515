from . import res_partner
from . import product_product
from . import purchase_order
from . import purchase_order_line
from . import stock_picking
from . import stock_move_line
from . import mfg_integration_message
