"""Resync API for the shop floor: GET /api/mfg/v1/production-orders?state=open lists the open
manufacturing orders of the calling system's plant, as their released job orders."""

from odoo import http

from odoo.addons.mfg_integration.controllers.main import API
from odoo.addons.mfg_integration_stock.controllers.main import MfgIntegrationResyncApi


class MfgIntegrationProductionResyncApi(MfgIntegrationResyncApi):
    def _resync_resources(self):
        return [
            *super()._resync_resources(),
            {
                "path": "production-orders",
                "event_type": "mfg.production_order.released.v1",
                "summary": "Open manufacturing orders of the caller's plant, as their released job orders' data",
            },
        ]

    @http.route(f"{API}/production-orders", type="http", auth="mfg_api", csrf=False, save_session=False)
    def production_orders(self, **_kwargs):
        return self._resync_page("mrp.production", "production-orders")
