"""The counterparts' own master data: their article, work-center, reason and location codes.

Each external system keeps its own codes; Odoo's code mappings (set up by the demo addon, or by support)
translate them. An entry is ``own code -> Odoo's code``: a simulator looks a code up by either side, so
it understands job orders sent in its own codes or in Odoo's.
"""

MES_ARTICLES = {
    "NP": {
        "A-1000": "FG-PUMP",
        "A-2001": "CMP-HOUSING",
        "A-2002": "CMP-BOLT",
        "A-1100": "FG-CTRL",
        "A-2101": "CMP-PCB",
    },
    "SP": {"S-PUMP": "FG-PUMP", "S-HSG": "CMP-HOUSING", "S-BOLT": "CMP-BOLT", "S-CTRL": "FG-CTRL", "S-PCB": "CMP-PCB"},
}
MES_WORK_CENTERS = {"NP": {"L1-ASSY": "NP-ASSY"}, "SP": {"SUED-MONT": "SP-ASSY"}}
MES_DOWNTIME_REASONS = {"NP": {"BRK": "Equipment Failure"}, "SP": {"STOER": "Equipment Failure"}}
# Lots of tracked components at the line side of each plant (received before the shift).
LINE_SIDE_LOTS = {"NP": {"CMP-HOUSING": "HSG-NP-0001"}, "SP": {"CMP-HOUSING": "HSG-SP-0001"}}

WMS_ARTICLES = {"W-BOLT": "CMP-BOLT", "W-BOX": "PKG-BOX"}
# An article the WMS starts using during the shift before Odoo has its mapping (an injected fault).
WMS_NEW_ARTICLE = ("W-BOLT-NEW", "CMP-BOLT")
WMS_LOCATIONS = {"BIN-A1": "NP/Stock", "LINE-1": "NP/Stock/Line 1"}

SUPPLIER_CODE = "V-ACME"
SUPPLIER_ARTICLES = {"AC-HSG-77": "CMP-HOUSING"}

QMS_ARTICLES = {"Q-PUMP": "FG-PUMP"}
QMS_TEST = "PRESS"
QMS_CHARACTERISTIC = "BURST_BAR"
QMS_LIMITS = (10.0, 20.0)  # bar, as the Odoo test says


def own_code(table, code):
    """The system's own code for ``code`` given in its own codes or in Odoo's, or None."""
    if code in table:
        return code
    return next((own for own, odoo in table.items() if odoo == code), None)
