from odoo import api, models


class MfgIntegrationMessage(models.Model):
    _inherit = "mfg.integration.message"

    @api.model
    def _mfg_emit_not_to_sender(self, event_type_code, record, data, subject=None):
        """Emit to every subscriber except the system whose inbound event caused the change:
        a quality system is not told back what it just reported."""
        sender_id = self.env.context.get("mfg_inbound_system_id")
        endpoints = None
        if sender_id:
            # sudo: the catalog is configuration any business user's action may fan out to.
            event_type = self.env["mfg.integration.event.type"].sudo()._get_by_code(event_type_code, "outbound")
            if event_type:
                endpoints = self._subscribed_endpoints(event_type, record).filtered(
                    lambda endpoint: endpoint.system_id.id != sender_id
                )
        return self.emit(event_type_code, record, data, endpoints=endpoints, subject=subject)
