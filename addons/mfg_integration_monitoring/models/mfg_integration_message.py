from odoo import models


class MfgIntegrationMessage(models.Model):
    _inherit = "mfg.integration.message"

    def init(self):
        result = super().init()
        # The dashboard, the SLA check, /health and /metrics only read messages that
        # are not finished (small backlog) or were delivered recently: two partial,
        # covering indexes keep them fast on a table of millions of messages.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS mfg_integration_message_unfinished_idx
                ON mfg_integration_message (state, create_date)
                   INCLUDE (system_id, endpoint_id, event_type_id, company_id, direction)
             WHERE state IN ('pending', 'in_progress', 'retry', 'dead')
            """
        )
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS mfg_integration_message_done_at_idx
                ON mfg_integration_message (done_at)
                   INCLUDE (system_id, endpoint_id, event_type_id, company_id, direction, latency_ms)
             WHERE state = 'done'
            """
        )
        return result
