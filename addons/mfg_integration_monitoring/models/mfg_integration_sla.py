from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .mfg_integration_dashboard import FAILED_STATES, UNFINISHED_STATES


class MfgIntegrationSla(models.Model):
    """A business service level: how old a message of one event type may get."""

    _name = "mfg.integration.sla"
    _inherit = ["mfg.integration.company.mixin"]
    _description = "Integration SLA"
    _check_company_auto = True
    _order = "name"

    name = fields.Char(required=True, translate=True, help="e.g. Production confirmation applied within 15 min")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    event_type_id = fields.Many2one("mfg.integration.event.type", required=True, ondelete="cascade", index=True)
    system_id = fields.Many2one(
        "mfg.integration.system",
        ondelete="cascade",
        check_company=True,
        help="Leave empty to apply the SLA to every system.",
    )
    condition = fields.Selection(
        [
            ("unprocessed", "Not delivered / applied in time"),
            ("failed", "Failed"),
        ],
        required=True,
        default="unprocessed",
        help="Not delivered / applied in time: a message still pending, retrying or dead after the maximum age.\n"
        "Failed: a message retrying or dead for longer than the maximum age (0: at once).",
    )
    max_age_minutes = fields.Integer(string="Maximum Age (min)", required=True, default=15)
    notify_email = fields.Boolean(
        string="Send Email", help="Also email the system's responsible when the SLA is breached."
    )
    alert_ids = fields.One2many("mfg.integration.alert", "sla_id", string="Alerts")
    open_alert_count = fields.Integer(compute="_compute_open_alert_count", string="Open Alerts")

    @api.constrains("max_age_minutes")
    def _check_max_age(self):
        for sla in self:
            if sla.max_age_minutes < 0:
                raise ValidationError(self.env._("The maximum age cannot be negative."))

    def _compute_open_alert_count(self):
        counts = dict(
            self.env["mfg.integration.alert"]._read_group(
                [("sla_id", "in", self.ids), ("state", "=", "open")], ["sla_id"], ["__count"]
            )
        )
        for sla in self:
            sla.open_alert_count = counts.get(sla, 0)

    def _breach_domain(self, now=None):
        """The messages breaching this SLA now (same rule as the SQL in _sla_breaches)."""
        self.ensure_one()
        limit = (now or fields.Datetime.now()) - timedelta(minutes=self.max_age_minutes)
        states = UNFINISHED_STATES if self.condition == "unprocessed" else FAILED_STATES
        domain = [
            ("event_type_id", "=", self.event_type_id.id),
            ("company_id", "=", self.company_id.id),
            ("state", "in", states),
            ("create_date", "<", fields.Datetime.to_string(limit)),
        ]
        if self.system_id:
            domain.append(("system_id", "=", self.system_id.id))
        return domain

    def action_view_breaches(self):
        self.ensure_one()
        return self.env["mfg.integration.dashboard"].action_open_messages("sla", sla_id=self.id)
