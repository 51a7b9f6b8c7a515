from odoo import fields, models


class StockMove(models.Model):
    _inherit = "stock.move"

    mfg_reported = fields.Boolean(
        string="Reported by the Shop Floor",
        copy=False,
        help="The consumption of this component comes from shop-floor reports, not from Odoo's defaults.",
    )
