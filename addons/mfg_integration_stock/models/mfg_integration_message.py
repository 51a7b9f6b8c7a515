from odoo import api, models


class MfgIntegrationMessage(models.Model):
    _inherit = "mfg.integration.message"

    @api.model
    def _filter_endpoints_for_record(self, endpoints, record):
        """A plant's systems hear only about that plant's records."""
        endpoints = super()._filter_endpoints_for_record(endpoints, record)
        plant = record._mfg_warehouse() if hasattr(record, "_mfg_warehouse") else None
        if plant is None:
            return endpoints
        return endpoints.filtered(lambda e: not e.system_id.warehouse_id or e.system_id.warehouse_id == plant)
