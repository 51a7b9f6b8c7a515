from datetime import timedelta

from odoo import fields, models


class MfgIntegrationSla(models.Model):
    _inherit = "mfg.integration.sla"

    condition = fields.Selection(
        selection_add=[("differences", "Unresolved reconciliation differences")],
        ondelete={"differences": "cascade"},
        help="Not delivered / applied in time: a message still pending, retrying or dead after the maximum age.\n"
        "Failed: a message retrying or dead for longer than the maximum age (0: at once).\n"
        "Unresolved reconciliation differences: a difference found in a snapshot of this event type "
        "(e.g. mfg.inventory.snapshot_reported.v1) still open after the maximum age (N hours: N x 60 min).",
    )

    def _difference_domain(self, now=None):
        """The open differences breaching this SLA now."""
        self.ensure_one()
        limit = (now or fields.Datetime.now()) - timedelta(minutes=self.max_age_minutes)
        domain = [
            ("state", "=", "open"),
            ("company_id", "=", self.company_id.id),
            ("run_id.event_type_id", "=", self.event_type_id.id),
            ("create_date", "<", fields.Datetime.to_string(limit)),
        ]
        if self.system_id:
            domain.append(("system_id", "=", self.system_id.id))
        return domain

    def _action_view_differences(self, system_id=None):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mfg_integration_reconciliation.mfg_integration_reconciliation_line_action"
        )
        domain = self._difference_domain()
        if system_id:
            domain.append(("system_id", "=", system_id))
        action.update(name=self.name, domain=domain, context={})
        return action

    def action_view_breaches(self):
        self.ensure_one()
        if self.condition == "differences":
            return self._action_view_differences()
        return super().action_view_breaches()
