from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    mfg_hold_on_failed_inspection = fields.Boolean(
        string="Hold Lots of Failed Inspections",
        help="A failed quality inspection of a lot places the lot on quality hold.",
    )
