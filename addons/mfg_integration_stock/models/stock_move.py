from odoo import api, models

from odoo.addons.mfg_integration.exceptions import MfgBusinessError
from odoo.addons.mfg_integration.lib.timeconv import parse_rfc3339

from ..lib.results import records_result


class StockMove(models.Model):
    _inherit = "stock.move"

    def _action_done(self, cancel_backorder=False):
        moves = super()._action_done(cancel_backorder=cancel_backorder)
        # A report from the floor is dated when it happened (a buffered report arrives late).
        for when, dated in moves.grouped(lambda move: move._mfg_occurred_at()).items():
            dated._mfg_set_business_date(when)
        return moves

    def _mfg_occurred_at(self):
        """When the report that made this move done happened (None: now)."""
        return self.env.context.get("mfg_occurred_at")

    def _action_assign(self, force_qty=False):
        result = super()._action_assign(force_qty=force_qty)
        # A transfer that became ready goes to the WMS/3PL that picks it.
        self.picking_id._mfg_release_ready()
        return result

    def write(self, vals):
        result = super().write(vals)
        if "product_uom_qty" in vals and not self.env.context.get("mfg_transition"):
            self.picking_id._mfg_announce_change(["lines"])
        return result

    def _mfg_set_business_date(self, when):
        """Date done moves and their lines when it happened, not when the report arrived."""
        if when:
            self.write({"date": when})
            self.move_line_ids.write({"date": when})

    # -- inbound: mfg.inventory.movement_reported.v1 ---------------------------------------

    @api.model
    def _mfg_handle_movement_reported(self, message, data):
        """Record a reported movement as a done internal transfer of the source location's plant."""
        system = message.system_id
        Mapping = self.env["mfg.integration.code.mapping"]
        product = Mapping.resolve(system, "product", data["material"], path="/data/material")
        source = Mapping.resolve(system, "location", data["from_location"], path="/data/from_location")
        destination = Mapping.resolve(system, "location", data["to_location"], path="/data/to_location")
        if source == destination:
            raise MfgBusinessError(self.env._("A movement needs two different locations."), path="/data/to_location")
        system._mfg_check_plant(source.warehouse_id, source.complete_name, "/data/from_location")
        system._mfg_check_plant(destination.warehouse_id, destination.complete_name, "/data/to_location")
        quantity = Mapping._resolve_quantity(system, data["quantity"], data.get("uom"), product.uom_id, "/data/uom")
        lot = self.env["stock.lot"]._mfg_reported(system, product, data.get("lot"), "/data/lot")
        system._mfg_check_on_hand(product, source, lot, quantity, "/data/quantity")
        occurred_at = parse_rfc3339(data["occurred_at"]) if data.get("occurred_at") else None
        picking_type = self._mfg_internal_type(source, destination, system)
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "location_id": source.id,
                "location_dest_id": destination.id,
                "origin": data.get("reference") or message.event_id,
                "company_id": picking_type.company_id.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": product.display_name,
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "product_uom": product.uom_id.id,
                            "location_id": source.id,
                            "location_dest_id": destination.id,
                        },
                    )
                ],
            }
        )
        picking.action_confirm()
        move = picking.move_ids
        # What happened on the floor replaces Odoo's reservation.
        move.move_line_ids.unlink()
        self.env["stock.move.line"].create(
            {
                "move_id": move.id,
                "picking_id": picking.id,
                "product_id": product.id,
                "lot_id": lot.id or False,
                "quantity": quantity,
                "product_uom_id": product.uom_id.id,
                "location_id": source.id,
                "location_dest_id": destination.id,
                "picked": True,
            }
        )
        move.picked = True
        picking.with_context(mfg_occurred_at=occurred_at, cancel_backorder=True)._action_done()
        return records_result(picking, state=picking.state)

    @api.model
    def _mfg_internal_type(self, source, destination, system):
        """The internal operation type of the plant the goods move in."""
        warehouse = source.warehouse_id or destination.warehouse_id or system.warehouse_id
        domain = [("code", "=", "internal"), ("company_id", "=", system.company_id.id)]
        if warehouse:
            domain.append(("warehouse_id", "=", warehouse.id))
        # The internal type is archived while multi-step routes and locations are off.
        picking_type = (
            self.env["stock.picking.type"]
            .with_context(active_test=False)
            .search(domain, order="active desc, sequence, id", limit=1)
        )
        if not picking_type:
            raise MfgBusinessError(
                self.env._("No internal transfer operation type for %(location)s.", location=source.complete_name),
                path="/data/from_location",
            )
        return picking_type
