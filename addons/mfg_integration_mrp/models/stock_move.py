from odoo import fields, models


class StockMove(models.Model):
    _inherit = "stock.move"

    mfg_reported = fields.Boolean(
        string="Reported by the Shop Floor",
        copy=False,
        help="The consumption of this component comes from shop-floor reports, not from Odoo's defaults.",
    )

    def _mfg_occurred_at(self):
        # Orders closed together (mrp.production._mfg_close_together) each keep their report's time.
        production = self.production_id or self.raw_material_production_id
        by_production = self.env.context.get("mfg_occurred_at_by_production") or {}
        return by_production.get(production.id) or super()._mfg_occurred_at()
