from odoo import fields, models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    mfg_asn_numbers = fields.Char(
        string="Shipping Notices",
        copy=False,
        readonly=True,
        help="Advance shipping notices (ASN) of the supplier that pre-filled this receipt.",
    )
