from odoo import fields, models


class MfgIntegrationSystem(models.Model):
    _inherit = "mfg.integration.system"

    warehouse_id = fields.Many2one(
        "stock.warehouse",
        string="Plant",
        check_company=True,
        help="The plant this system serves: it only hears about this warehouse's orders and transfers. "
        "Empty: every plant of the company.",
    )
