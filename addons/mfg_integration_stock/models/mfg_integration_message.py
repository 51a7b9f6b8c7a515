from odoo import api, models, tools


class MfgIntegrationMessage(models.Model):
    _inherit = "mfg.integration.message"

    @api.model
    def _filter_routes_for_record(self, routes, record):
        """A plant's systems hear only about that plant's records."""
        routes = super()._filter_routes_for_record(routes, record)
        plant = record._mfg_warehouse() if hasattr(record, "_mfg_warehouse") else None
        if plant is None:
            return routes
        plants = self._plant_by_system()
        return [route for route in routes if plants.get(route.system_id) in (None, plant.id)]

    @api.model
    @tools.ormcache()
    def _plant_by_system(self):
        """{system id: warehouse id} of the systems tied to a plant. Cached with the routing: any
        change of a system clears it (mfg.integration.routing.mixin)."""
        self.env["mfg.integration.system"].flush_model(["warehouse_id"])
        self.env.cr.execute("SELECT id, warehouse_id FROM mfg_integration_system WHERE warehouse_id IS NOT NULL")
        return dict(self.env.cr.fetchall())
