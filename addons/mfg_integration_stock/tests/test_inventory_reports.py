"""Inventory reports from a WMS through the real inbound API: movements, counts, dispatched shipments."""

from datetime import datetime

from odoo.tests import tagged

from .common import InventoryApiCase

MOVEMENT = "mfg.inventory.movement_reported.v1"
COUNT = "mfg.inventory.count_reported.v1"
DISPATCHED = "mfg.shipment.dispatched.v1"


@tagged("post_install", "-at_install")
class TestMovementReported(InventoryApiCase):
    inbound_types = (MOVEMENT, COUNT, DISPATCHED)

    def movement(self, **data):
        return dict(
            {
                "material": self.steel.default_code,
                "quantity": 12.0,
                "lot": self.steel_lot.name,
                "from_location": self.stock1.complete_name,
                "to_location": self.shelf1.barcode,
                "reference": "WMS-MV-1",
                "occurred_at": "2026-11-20T06:30:00Z",
            },
            **data,
        )

    def test_movement_is_a_done_internal_transfer_dated_when_it_happened(self):
        result = self.assertProcessed(self.post_event(MOVEMENT, self.movement()))

        [record] = result["records"]
        picking = self.env["stock.picking"].browse(record["id"])
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.picking_type_id.code, "internal")
        self.assertEqual(picking.origin, "WMS-MV-1")
        self.assertEqual(picking.date_done, datetime(2026, 11, 20, 6, 30))
        self.assertEqual(picking.move_ids.date, datetime(2026, 11, 20, 6, 30))
        self.assertEqual(picking.move_line_ids.lot_id, self.steel_lot)
        self.assertEqual(self.on_hand(self.steel, self.stock1, self.steel_lot), 88)
        self.assertEqual(self.on_hand(self.steel, self.shelf1, self.steel_lot), 12)

    def test_movement_in_another_unit(self):
        dozen = self.env.ref("uom.product_uom_dozen")
        data = self.movement(material=self.bolt.barcode, quantity=2, uom=dozen.name)
        del data["lot"]  # bolts are not tracked
        self.assertProcessed(self.post_event(MOVEMENT, data))
        self.assertEqual(self.on_hand(self.bolt, self.shelf1), 24)
        self.assertEqual(self.on_hand(self.bolt, self.stock1), 26)

    def test_unknown_lot_is_refused_naming_it(self):
        response = self.post_event(MOVEMENT, self.movement(lot="L-NOPE"))
        self.assertBusinessError(response, "/data/lot", "L-NOPE")
        self.assertEqual(self.on_hand(self.steel, self.shelf1, self.steel_lot), 0)

    def test_system_allowed_to_create_lots_creates_it(self):
        self.wms.allow_lot_creation = True
        self.wms.allow_negative_stock = True  # a new lot holds nothing where it comes from
        self.assertProcessed(self.post_event(MOVEMENT, self.movement(lot=f"L-NEW-{self.tag}")))
        lot = self.env["stock.lot"].search([("name", "=", f"L-NEW-{self.tag}"), ("product_id", "=", self.steel.id)])
        self.assertEqual(self.on_hand(self.steel, self.shelf1, lot), 12)

    def test_unmapped_code_is_refused_then_reprocessed_after_mapping(self):
        response = self.post_event(MOVEMENT, self.movement(material="WMS-STEEL"))
        body = self.assertBusinessError(response, "/data/material", "WMS-STEEL", "product")
        message = self.env["mfg.integration.message"].browse(body["message_id"])
        self.assertEqual(message.state, "dead")

        # Support adds the mapping from the failed message and reprocesses it.
        self.env["mfg.integration.code.mapping"].create(
            {
                "system_id": self.wms.id,
                "kind": "product",
                "external_code": "WMS-STEEL",
                "target_ref": f"product.product,{self.steel.id}",
            }
        )
        self.assertEqual(message.action_inbound_reprocess(), {message.id: "processed"})
        self.assertEqual(message.state, "done")
        self.assertEqual(self.on_hand(self.steel, self.shelf1, self.steel_lot), 12)

    def test_another_plants_location_is_refused(self):
        response = self.post_event(MOVEMENT, self.movement(to_location=self.plant2.lot_stock_id.complete_name))
        self.assertBusinessError(response, "/data/to_location", self.plant2.code, self.wms.code)
        self.assertEqual(self.on_hand(self.steel, self.stock1, self.steel_lot), 100)

    def test_duplicate_report_is_applied_once(self):
        event_id = "wms-move-0001"
        first = self.assertProcessed(self.post_event(MOVEMENT, self.movement(), event_id=event_id))
        second = self.assertProcessed(self.post_event(MOVEMENT, self.movement(), event_id=event_id))
        self.assertEqual(first, second)
        self.assertEqual(self.on_hand(self.steel, self.shelf1, self.steel_lot), 12)


@tagged("post_install", "-at_install")
class TestCountReported(InventoryApiCase):
    inbound_types = (COUNT,)

    def test_count_is_applied_as_an_inventory_adjustment(self):
        data = {
            "location": self.stock1.complete_name,
            "counted_at": "2026-11-21T18:00:00Z",
            "lines": [
                {"material": self.steel.default_code, "lot": self.steel_lot.name, "counted_quantity": 95},
                {"material": self.bolt.default_code, "counted_quantity": 52},
            ],
        }
        self.assertProcessed(self.post_event(COUNT, data))

        self.assertEqual(self.on_hand(self.steel, self.stock1, self.steel_lot), 95)
        self.assertEqual(self.on_hand(self.bolt, self.stock1), 52)
        moves = self.env["stock.move"].search(
            [("is_inventory", "=", True), ("product_id", "in", (self.steel | self.bolt).ids), ("state", "=", "done")]
        )
        self.assertEqual(len(moves), 2)
        self.assertEqual(set(moves.mapped("date")), {datetime(2026, 11, 21, 18, 0)})
        steel_move = moves.filtered(lambda m: m.product_id == self.steel)
        self.assertEqual(steel_move.location_dest_id.usage, "inventory")
        self.assertEqual(steel_move.quantity, 5)

    def test_count_of_a_new_lot_needs_lot_creation_rights(self):
        data = {
            "location": self.shelf1.barcode,
            "lines": [{"material": self.steel.default_code, "lot": "FOUND-1", "counted_quantity": 3}],
        }
        self.assertBusinessError(self.post_event(COUNT, data), "/data/lines/0/lot", "FOUND-1")
        self.wms.allow_lot_creation = True
        self.assertProcessed(self.post_event(COUNT, data))
        lot = self.env["stock.lot"].search([("name", "=", "FOUND-1"), ("product_id", "=", self.steel.id)])
        self.assertEqual(self.on_hand(self.steel, self.shelf1, lot), 3)


@tagged("post_install", "-at_install")
class TestShipmentDispatched(InventoryApiCase):
    inbound_types = (DISPATCHED,)

    def delivery(self):
        customers = self.env.ref("stock.stock_location_customers")
        locations = {"location_id": self.stock1.id, "location_dest_id": customers.id}
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": self.plant1.out_type_id.id,
                "partner_id": self.make_partner("Customer").id,
                **locations,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "steel",
                            "product_id": self.steel.id,
                            "product_uom_qty": 30,
                            "product_uom": self.steel.uom_id.id,
                            **locations,
                        },
                    ),
                    (
                        0,
                        0,
                        {
                            "name": "bolts",
                            "product_id": self.bolt.id,
                            "product_uom_qty": 10,
                            "product_uom": self.bolt.uom_id.id,
                            **locations,
                        },
                    ),
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        return picking

    def test_partial_dispatch_validates_and_backorders_the_rest(self):
        delivery = self.delivery()
        data = {
            "transfer": delivery.name,
            "lines": [
                {"material": self.steel.default_code, "quantity": 20, "lot": self.steel_lot.name},
                {"material": self.bolt.default_code, "quantity": 10},
            ],
            "tracking_ref": "1Z999",
            "dispatched_at": "2026-11-22T07:15:00Z",
        }
        result = self.assertProcessed(self.post_event(DISPATCHED, data))

        self.assertEqual(delivery.state, "done")
        self.assertEqual(delivery.date_done, datetime(2026, 11, 22, 7, 15))
        self.assertEqual(self.on_hand(self.steel, self.stock1, self.steel_lot), 80)
        self.assertEqual(self.on_hand(self.bolt, self.stock1), 40)
        backorder = self.env["stock.picking"].search([("backorder_id", "=", delivery.id)])
        self.assertEqual(result["backorders"], [backorder.name])
        self.assertEqual(backorder.move_ids.product_id, self.steel)
        self.assertEqual(backorder.move_ids.product_uom_qty, 10)
        self.assertIn("1Z999", "".join(delivery.message_ids.mapped("body")))

    def test_dispatch_of_a_done_delivery_is_refused(self):
        delivery = self.delivery()
        data = {
            "transfer": delivery.name,
            "lines": [{"material": self.bolt.default_code, "quantity": 10}],
            "dispatched_at": "2026-11-22T07:15:00Z",
        }
        self.assertProcessed(self.post_event(DISPATCHED, data))
        self.assertBusinessError(self.post_event(DISPATCHED, data), "/data/transfer", delivery.name)

    def test_material_not_on_the_delivery_is_refused(self):
        delivery = self.delivery()
        other = self.env["product.product"].create({"name": "Other", "default_code": f"OTHER-{self.tag}"})
        data = {
            "transfer": delivery.name,
            "lines": [{"material": other.default_code, "quantity": 1}],
            "dispatched_at": "2026-11-22T07:15:00Z",
        }
        self.assertBusinessError(self.post_event(DISPATCHED, data), "/data/lines/0/material", other.default_code)
        self.assertEqual(delivery.state, "assigned")
