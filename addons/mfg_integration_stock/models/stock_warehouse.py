from odoo import api, models, tools


class StockWarehouse(models.Model):
    _name = "stock.warehouse"
    # The mixin clears the cache of plant codes on any warehouse change.
    _inherit = ["stock.warehouse", "mfg.integration.routing.mixin"]

    def _mfg_plant_code(self):
        """The code the shop floor knows this plant by (None without one), from a cache: an event's
        payload built in the planner's transaction reads no warehouse."""
        if not self:
            return None
        self.ensure_one()
        codes = self._mfg_plant_codes()
        if self.id not in codes:
            # Created by a transaction still running when the cache was filled: read it.
            return self.code or None
        return codes[self.id] or None

    @api.model
    @tools.ormcache()
    def _mfg_plant_codes(self):
        """{warehouse id: code} of every warehouse."""
        self.flush_model(["code"])
        self.env.cr.execute("SELECT id, code FROM stock_warehouse")
        return dict(self.env.cr.fetchall())
