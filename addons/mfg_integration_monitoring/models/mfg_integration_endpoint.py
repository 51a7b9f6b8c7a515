from odoo import models


class MfgIntegrationEndpoint(models.Model):
    _inherit = "mfg.integration.endpoint"

    def action_reset_circuit(self):
        """Closing a circuit by hand is a support action: keep who and when in the chatter."""
        opened = self.filtered(lambda e: e.circuit_open_until or e.consecutive_failures)
        result = super().action_reset_circuit()
        for endpoint in opened:
            endpoint.message_post(body=self.env._("Circuit closed by hand by %(user)s.", user=self.env.user.name))
        return result
