from odoo import _, models


class StockMove(models.Model):
    _inherit = "stock.move"

    def _action_done(self, cancel_backorder=False):
        """A lot on quality hold may not leave to a customer nor be consumed by a manufacturing order."""
        for move in self:
            if move.state in ("done", "cancel"):
                continue
            delivery = move.picking_code == "outgoing" or move.location_dest_id.usage == "customer"
            consumption = bool(move.raw_material_production_id)
            if not (delivery or consumption):
                continue
            lots = move.move_line_ids.filtered(lambda line: line.quantity and line.lot_id).lot_id
            if delivery:
                operation = _("Delivery %(name)s", name=move.picking_id.name or move.reference)
            else:
                operation = _("Consumption in %(name)s", name=move.raw_material_production_id.name)
            lots._mfg_check_not_on_hold(operation)
        return super()._action_done(cancel_backorder=cancel_backorder)
