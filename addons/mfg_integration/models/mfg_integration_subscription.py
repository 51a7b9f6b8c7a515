from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.safe_eval import safe_eval


class MfgIntegrationSubscription(models.Model):
    """An endpoint's interest in one outbound event type, optionally filtered."""

    _name = "mfg.integration.subscription"
    _inherit = ["mfg.integration.routing.mixin", "mfg.integration.company.mixin"]
    _description = "Integration Subscription"
    _order = "endpoint_id, event_type_id"

    endpoint_id = fields.Many2one("mfg.integration.endpoint", required=True, ondelete="cascade", index=True)
    event_type_id = fields.Many2one(
        "mfg.integration.event.type",
        required=True,
        ondelete="restrict",
        domain=[("direction", "=", "outbound")],
    )
    filter_domain = fields.Char(
        string="Filter",
        default="[]",
        help="Domain on the record the event is about; only matching records are sent.",
    )
    active = fields.Boolean(related="endpoint_id.active", store=True)
    company_id = fields.Many2one(related="endpoint_id.company_id", store=True, index=True)

    _sql_constraints = [
        ("endpoint_type_unique", "unique(endpoint_id, event_type_id)", "One subscription per event type and endpoint."),
    ]

    @api.constrains("filter_domain")
    def _check_filter_domain(self):
        for subscription in self:
            try:
                domain = safe_eval(subscription.filter_domain or "[]")
            except Exception as error:
                raise ValidationError(self.env._("Invalid filter: %(error)s", error=error)) from error
            if not isinstance(domain, list):
                raise ValidationError(self.env._("A filter must be a domain (a list)."))
