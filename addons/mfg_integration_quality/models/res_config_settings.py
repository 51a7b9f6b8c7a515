from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    mfg_hold_on_failed_inspection = fields.Boolean(related="company_id.mfg_hold_on_failed_inspection", readonly=False)
