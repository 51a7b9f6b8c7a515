from odoo import fields, models

from ..lib import netpolicy


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    mfg_outbound_networks = fields.Char(related="company_id.mfg_outbound_networks", readonly=False)

    def action_mfg_allow_private_networks(self):
        """One click for an on-premise plant network: allow every private range."""
        self.ensure_one()
        self.company_id.mfg_outbound_networks = ", ".join(netpolicy.PRIVATE_RANGES)
        return {"type": "ir.actions.client", "tag": "reload"}
