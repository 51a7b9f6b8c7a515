from odoo import fields, models


class StockMoveLine(models.Model):
    _inherit = "stock.move.line"

    mfg_asn_number = fields.Char(
        string="ASN",
        index="btree_not_null",
        copy=False,
        readonly=True,
        help="Advance shipping notice of the supplier that announced this quantity.",
    )
