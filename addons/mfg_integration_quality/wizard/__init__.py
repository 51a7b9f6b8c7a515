from . import mfg_quality_lot_hold_wizard
