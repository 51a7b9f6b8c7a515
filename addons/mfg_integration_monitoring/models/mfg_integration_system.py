from odoo import fields, models


class MfgIntegrationSystem(models.Model):
    _name = "mfg.integration.system"
    _inherit = ["mfg.integration.system", "mail.activity.mixin"]

    alert_email = fields.Boolean(
        string="Email Alerts",
        help="Also email the responsible when dead letters appear or an endpoint's circuit opens.",
    )
    alert_ids = fields.One2many("mfg.integration.alert", "system_id", string="Alerts")
