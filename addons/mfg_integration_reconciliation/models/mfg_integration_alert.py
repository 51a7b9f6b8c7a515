from odoo import models


class MfgIntegrationAlert(models.Model):
    _inherit = "mfg.integration.alert"

    def _describe(self, detail=""):
        self.ensure_one()
        if self.kind == "sla" and self.sla_id.condition == "differences":
            return self.env._(
                "SLA breached on %(system)s: %(sla)s (%(count)s differences)",
                system=self.system_id.display_name,
                sla=self.sla_id.name,
                count=self.message_count,
            )
        return super()._describe(detail)

    def action_view_messages(self):
        self.ensure_one()
        if self.kind == "sla" and self.sla_id.condition == "differences":
            return self.sla_id._action_view_differences(self.system_id.id)
        return super().action_view_messages()
