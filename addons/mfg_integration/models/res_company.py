from odoo import fields, models
from odoo.exceptions import ValidationError

from ..lib import netpolicy

ADMIN_NETWORKS_PARAM = "mfg_integration.outbound_allowed_networks"


class ResCompany(models.Model):
    _inherit = "res.company"

    mfg_outbound_networks = fields.Char(
        string="Plant Networks",
        help="Private networks (CIDR, comma separated, e.g. 10.20.0.0/16) this company's endpoints may be "
        "delivered to, for systems on the plant network. Other private addresses are refused.",
    )

    def _check_mfg_outbound_networks(self, text):
        try:
            networks = netpolicy.parse_networks(text)
        except ValueError as error:
            raise ValidationError(str(error)) from error
        for network in networks:
            if not netpolicy.is_private_range(network):
                raise ValidationError(
                    self.env._(
                        "%(network)s is not a private range (%(ranges)s): only a Settings administrator may allow "
                        "other addresses, with the system parameter %(param)s.",
                        network=network,
                        ranges=", ".join(netpolicy.PRIVATE_RANGES),
                        param=ADMIN_NETWORKS_PARAM,
                    )
                )

    def write(self, vals):
        if vals.get("mfg_outbound_networks"):
            self._check_mfg_outbound_networks(vals["mfg_outbound_networks"])
        return super().write(vals)

    def _mfg_address_policy(self):
        """The addresses this company's endpoints may be delivered to, besides public ones."""
        self.ensure_one()
        # sudo: reads one configuration value (writable by Settings administrators only).
        admin_networks = self.env["ir.config_parameter"].sudo().get_param(ADMIN_NETWORKS_PARAM, "")
        try:
            networks = netpolicy.parse_networks(admin_networks) + netpolicy.parse_networks(self.mfg_outbound_networks)
        except ValueError:
            networks = ()  # an unreadable list allows nothing more than public addresses
        return netpolicy.AddressPolicy(networks)
