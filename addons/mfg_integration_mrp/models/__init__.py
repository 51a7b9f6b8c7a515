from . import mfg_integration_code_mapping
from . import mfg_integration_system
from . import mrp_bom
from . import mrp_production
from . import mrp_workcenter
from . import mrp_workorder
from . import mrp_workcenter_productivity
from . import stock_move
