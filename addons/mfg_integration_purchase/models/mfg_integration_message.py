from odoo import api, models


class MfgIntegrationMessage(models.Model):
    _inherit = "mfg.integration.message"

    @api.model
    def _filter_routes_for_record(self, routes, record):
        """A purchase order's events go to its supplier's own system only."""
        routes = super()._filter_routes_for_record(routes, record)
        if record._name == "purchase.order":
            system = record.partner_id._mfg_supplier_system()
            routes = [route for route in routes if system and route.system_id == system.id]
        return routes
