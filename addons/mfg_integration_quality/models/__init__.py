from . import mfg_quality_lot_hold
from . import stock_lot
from . import stock_move
from . import qc_test
from . import qc_test_question
from . import qc_inspection
from . import res_company
from . import res_config_settings
