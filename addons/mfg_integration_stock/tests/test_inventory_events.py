"""Outbound inventory events: emitted on the transition itself, only to the plant's systems."""

import json

from odoo.tests import tagged

from odoo.addons.mfg_integration.tests.common import IntegrationCase

from .common import PlantFixtures

TRANSFER_DONE = "mfg.inventory.transfer_done.v1"
ADJUSTED = "mfg.inventory.adjusted.v1"
LOT_CREATED = "mfg.material_lot.created.v1"


@tagged("post_install", "-at_install")
class TestInventoryEvents(IntegrationCase, PlantFixtures):
    def setUp(self):
        super().setUp()
        self.setup_plants()
        types = self.event_types(TRANSFER_DONE, ADJUSTED, LOT_CREATED)
        self.mes1 = self.make_system(warehouse_id=self.plant1.id)
        self.mes2 = self.make_system(warehouse_id=self.plant2.id)
        self.erp = self.make_system()  # no plant: hears about every plant
        self.endpoint1 = self.make_endpoint(self.mes1, "https://mes1.example.com/hook", types)
        self.endpoint2 = self.make_endpoint(self.mes2, "https://mes2.example.com/hook", types)
        self.endpoint_all = self.make_endpoint(self.erp, "https://erp.example.com/hook", types)

    def receipt(self, warehouse, product, quantity, lot_name=None):
        vendors = self.env.ref("stock.stock_location_suppliers")
        locations = {"location_id": vendors.id, "location_dest_id": warehouse.lot_stock_id.id}
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": warehouse.in_type_id.id,
                "partner_id": self.make_partner("Steel Supplier").id,
                "origin": "PO0042",
                **locations,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "product_uom": product.uom_id.id,
                            **locations,
                        },
                    )
                ],
            }
        )
        picking.action_confirm()
        if lot_name:
            picking.move_ids.move_line_ids.write({"lot_name": lot_name, "quantity": quantity})
        picking.move_ids.picked = True
        return picking

    def payloads(self, endpoint, code):
        messages = self.messages_of(endpoint).filtered(lambda m: m.event_type_id.code == code)
        return [json.loads(message.payload) for message in messages]

    def test_transfer_done_goes_to_the_plants_systems_only(self):
        receipt = self.receipt(self.plant2, self.steel, 40, lot_name=f"RCV-{self.tag}")
        receipt.write({"note": "unrelated change"})
        self.assertFalse(self.payloads(self.endpoint2, TRANSFER_DONE), "no event before validation")

        receipt.button_validate()

        self.assertEqual(receipt.state, "done")
        [event] = self.payloads(self.endpoint2, TRANSFER_DONE)
        self.assertEqual(len(self.payloads(self.endpoint_all, TRANSFER_DONE)), 1)
        self.assertFalse(self.payloads(self.endpoint1, TRANSFER_DONE), "plant 1's MES hears nothing of plant 2")
        self.assertEqual(event["transfer"], receipt.name)
        self.assertEqual(event["kind"], "incoming")
        self.assertEqual(event["plant"], self.plant2.code)
        self.assertEqual(event["origin"], "PO0042")
        self.assertEqual(
            event["lines"],
            [
                {
                    "material": self.steel.default_code,
                    "quantity": 40.0,
                    "uom": "Units",
                    "lot": f"RCV-{self.tag}",
                    "from_location": "Partners/Vendors",
                    "to_location": self.plant2.lot_stock_id.complete_name,
                }
            ],
        )
        message = self.messages_of(self.endpoint2).filtered(lambda m: m.event_type_id.code == TRANSFER_DONE)
        self.assertEqual(message.record_ref, receipt)
        self.assertEqual(receipt.mfg_message_count, 2)
        self.assertEqual(receipt.mfg_integration_status, "pending")

        # Writing on a done transfer emits nothing more.
        receipt.write({"note": "after the fact"})
        self.assertEqual(len(self.payloads(self.endpoint2, TRANSFER_DONE)), 1)

    def test_each_system_gets_the_transfer_in_its_own_codes(self):
        stock2 = self.plant2.lot_stock_id
        unit = self.env.ref("uom.product_uom_unit")
        for kind, code, record in (
            ("location", "BIN-IN", stock2),
            ("product", "WMS-STEEL", self.steel),
            ("uom", "EA", unit),
        ):
            target = f"{record._name},{record.id}"
            self.env["mfg.integration.code.mapping"].create(
                {"system_id": self.mes2.id, "kind": kind, "external_code": code, "target_ref": target}
            )
        receipt = self.receipt(self.plant2, self.steel, 40, lot_name=f"RCV-{self.tag}")
        receipt.button_validate()

        [mapped] = self.payloads(self.endpoint2, TRANSFER_DONE)
        self.assertEqual(
            mapped["lines"],
            [
                {
                    "material": "WMS-STEEL",
                    "material_odoo_code": self.steel.default_code,
                    "quantity": 40.0,
                    "uom": "EA",
                    "uom_odoo_code": "Units",
                    "lot": f"RCV-{self.tag}",
                    "from_location": "Partners/Vendors",
                    "to_location": "BIN-IN",
                    "to_location_odoo_code": stock2.complete_name,
                }
            ],
        )
        [plain] = self.payloads(self.endpoint_all, TRANSFER_DONE)
        self.assertEqual(
            (plain["lines"][0]["material"], plain["lines"][0]["to_location"]),
            (self.steel.default_code, stock2.complete_name),
        )
        self.assertNotIn("material_odoo_code", plain["lines"][0])
        self.env.ref("mfg_integration_stock.event_type_transfer_done").ensure_valid(mapped)

    def test_failed_transfer_is_found_by_the_integration_failed_filter(self):
        receipt = self.receipt(self.plant1, self.bolt, 5)
        receipt.button_validate()
        message = self.messages_of(self.endpoint1).filtered(lambda m: m.event_type_id.code == TRANSFER_DONE)
        message.state = "dead"
        receipt.invalidate_recordset()
        self.assertEqual(receipt.mfg_integration_status, "failed")
        failed = self.env["stock.picking"].search([("mfg_integration_status", "=", "failed")])
        self.assertEqual(failed, receipt)
        action = receipt.action_view_mfg_messages()
        self.assertIn(message, self.env["mfg.integration.message"].search(action["domain"]))
        self.assertEqual(action["context"], {"search_default_failed": 1})
        # The smart button, the badge and the filter are on the planners' views.
        views = self.env["stock.picking"].get_views([(False, "form"), (False, "list"), (False, "search")])["views"]
        self.assertIn("action_view_mfg_messages", views["form"]["arch"])
        self.assertIn("mfg_integration_status", views["form"]["arch"])
        self.assertIn("mfg_integration_status", views["list"]["arch"])
        self.assertIn('name="mfg_integration_failed"', views["search"]["arch"])

    def test_lot_created_is_announced(self):
        lot = self.env["stock.lot"].create({"name": f"NEW-{self.tag}", "product_id": self.steel.id, "ref": "HEAT-9"})
        [event] = self.payloads(self.endpoint1, LOT_CREATED)
        self.assertEqual(event["lot"], lot.name)
        self.assertEqual(event["material"], self.steel.default_code)
        self.assertEqual(event["tracking"], "lot")
        self.assertEqual(event["reference"], "HEAT-9")
        self.assertTrue(event["created_at"].endswith("Z"))
        self.assertEqual(len(self.payloads(self.endpoint2, LOT_CREATED)), 1, "a new lot is news for every plant")

    def test_inventory_adjustment_reports_before_and_after(self):
        quant = self.env["stock.quant"].search(
            [
                ("product_id", "=", self.steel.id),
                ("location_id", "=", self.stock1.id),
                ("lot_id", "=", self.steel_lot.id),
            ]
        )
        quant.with_context(inventory_mode=True).inventory_quantity = 97
        quant.action_apply_inventory()

        self.assertEqual(self.on_hand(self.steel, self.stock1, self.steel_lot), 97)
        [event] = self.payloads(self.endpoint1, ADJUSTED)
        self.assertFalse(self.payloads(self.endpoint2, ADJUSTED))
        self.assertEqual(event["location"], self.stock1.complete_name)
        self.assertEqual(event["plant"], self.plant1.code)
        self.assertEqual(
            event["lines"],
            [
                {
                    "material": self.steel.default_code,
                    "lot": self.steel_lot.name,
                    "previous_quantity": 100.0,
                    "counted_quantity": 97.0,
                    "difference": -3.0,
                    "uom": "Units",
                }
            ],
        )
