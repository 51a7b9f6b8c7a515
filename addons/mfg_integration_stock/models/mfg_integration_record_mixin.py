from odoo import models
from odoo.exceptions import AccessError


class MfgIntegrationRecordMixin(models.AbstractModel):
    _inherit = "mfg.integration.record.mixin"

    def _mfg_current_state(self):
        """(outbound event type code, payload builder) telling where the record stands now, or None
        when no event says it. Documents override it (see action_mfg_resend_state and the resync API)."""
        self.ensure_one()

    def action_mfg_resend_state(self):
        """Support: send the current state of each record again to the subscribed systems
        (e.g. a system restored from a backup), through the outbox like every event."""
        if not self.env.user.has_group("mfg_integration.group_mfg_integration_user"):
            raise AccessError(self.env._("Only Integration Users may resend documents."))
        Message = self.env["mfg.integration.message"]
        for record in self:
            state = record._mfg_current_state()
            if state:
                Message.emit(state[0], record, state[1])
        return True
