from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    mfg_system_id = fields.Many2one(
        "mfg.integration.system",
        string="Integration System",
        index="btree_not_null",
        help="External system this technical user authenticates on the inbound API.",
    )
