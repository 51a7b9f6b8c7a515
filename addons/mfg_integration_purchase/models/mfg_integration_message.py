from odoo import api, models


class MfgIntegrationMessage(models.Model):
    _inherit = "mfg.integration.message"

    @api.model
    def _filter_endpoints_for_record(self, endpoints, record):
        """A purchase order's events go to its supplier's own system only."""
        endpoints = super()._filter_endpoints_for_record(endpoints, record)
        if record._name == "purchase.order":
            system = record.partner_id._mfg_supplier_system()
            endpoints = endpoints.filtered(lambda endpoint: system and endpoint.system_id == system)
        return endpoints
