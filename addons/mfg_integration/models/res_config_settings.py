from odoo import fields, models

from ..lib import netpolicy
from .mfg_integration_message import DEFAULT_RETENTION_DAYS


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    mfg_outbound_networks = fields.Char(related="company_id.mfg_outbound_networks", readonly=False)
    mfg_retention_days = fields.Integer(
        string="Message Retention (days)",
        config_parameter="mfg_integration.retention_days",
        default=DEFAULT_RETENTION_DAYS,
        help="Delivered, processed and ignored messages older than this are deleted every day (at least 1 day).",
    )

    def action_mfg_allow_private_networks(self):
        """One click for an on-premise plant network: allow every private range."""
        self.ensure_one()
        self.company_id.mfg_outbound_networks = ", ".join(netpolicy.PRIVATE_RANGES)
        return {"type": "ir.actions.client", "tag": "reload"}
