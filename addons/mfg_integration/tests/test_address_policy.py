from odoo.exceptions import ValidationError

from ..lib import netpolicy
from ..models.res_company import ADMIN_NETWORKS_PARAM
from .common import IntegrationCase


class TestAddressPolicy(IntegrationCase):
    def test_a_company_lists_its_plant_networks_but_only_private_ranges(self):
        company = self.env.company
        company.mfg_outbound_networks = "10.20.0.0/16, 192.168.5.0/24"
        policy = company._mfg_address_policy()
        self.assertIsNone(policy.refusal("10.20.1.2"))
        self.assertIn("private", policy.refusal("10.30.1.2"))
        for refused in ("127.0.0.0/8", "169.254.169.254/32", "0.0.0.0/0", "plant"):
            with self.assertRaises(ValidationError):
                company.mfg_outbound_networks = refused

    def test_one_click_allows_every_private_range(self):
        settings = self.env["res.config.settings"].create({})
        settings.action_mfg_allow_private_networks()
        self.assertEqual(self.env.company.mfg_outbound_networks, ", ".join(netpolicy.PRIVATE_RANGES))
        policy = self.env.company._mfg_address_policy()
        for address in ("10.1.2.3", "172.20.0.1", "192.168.1.1", "fd00::1"):
            self.assertIsNone(policy.refusal(address))

    def test_only_the_administrators_parameter_allows_loopback(self):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param(ADMIN_NETWORKS_PARAM, "")
        self.assertIn("loopback", self.env.company._mfg_address_policy().refusal("127.0.0.1"))
        params.set_param(ADMIN_NETWORKS_PARAM, "127.0.0.0/8")
        self.assertIsNone(self.env.company._mfg_address_policy().refusal("127.0.0.1"))
