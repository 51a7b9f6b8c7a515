from odoo import api, models


class MfgIntegrationRoutingMixin(models.AbstractModel):
    """Configuration the outbox caches (event types, subscriptions, endpoints): any
    change clears the cache, so emit() never routes on stale configuration."""

    _name = "mfg.integration.routing.mixin"
    _description = "Integration Routing Configuration"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env.registry.clear_cache()
        return records

    def write(self, vals):
        result = super().write(vals)
        self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result
