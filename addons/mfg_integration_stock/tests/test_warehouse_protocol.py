# The loop commits on purpose: the outbox, the dispatcher and the API are about commits.
# pylint: disable=invalid-commit
"""The warehouse side as a WMS/3PL lives it over HTTP: stock never driven negative by surprise,
transfers released / changed / cancelled to it, its open transfers on request, master data."""

from odoo import fields
from odoo.tests import tagged

from odoo.addons.mfg_integration.tests.common import CommittedCase, make_api_key

from .common import InventoryApiCase, PlantFixtures

MOVEMENT = "mfg.inventory.movement_reported.v1"
DISPATCHED = "mfg.shipment.dispatched.v1"
RELEASED = "mfg.inventory.transfer_released.v1"
CHANGED = "mfg.inventory.transfer_changed.v1"
CANCELLED = "mfg.inventory.transfer_cancelled.v1"
MATERIAL = "mfg.material.changed.v1"


@tagged("post_install", "-at_install")
class TestNegativeStock(InventoryApiCase):
    inbound_types = (MOVEMENT, DISPATCHED)

    def movement(self, quantity):
        return {
            "material": self.bolt.default_code,
            "quantity": quantity,
            "from_location": self.stock1.complete_name,
            "to_location": self.shelf1.barcode,
            "occurred_at": "2026-11-20T06:30:00Z",
        }

    def test_moving_more_than_on_hand_is_refused_naming_the_line(self):
        response = self.post_event(MOVEMENT, self.movement(10000))
        body = self.assertBusinessError(response, "/data/quantity", self.bolt.default_code, "50", "10000")
        self.assertIn("negative", body["detail"])
        self.assertEqual(self.on_hand(self.bolt, self.stock1), 50)
        self.assertProcessed(self.post_event(MOVEMENT, self.movement(50)))

    def test_a_system_allowed_to_drive_stock_negative_may(self):
        self.wms.allow_negative_stock = True
        self.assertProcessed(self.post_event(MOVEMENT, self.movement(10000)))
        self.assertEqual(self.on_hand(self.bolt, self.stock1), 50 - 10000)

    def test_shipping_more_than_on_hand_is_refused_naming_the_line(self):
        customer = self.env.ref("stock.stock_location_customers")
        delivery = self.env["stock.picking"].create(
            {
                "picking_type_id": self.plant1.out_type_id.id,
                "location_id": self.stock1.id,
                "location_dest_id": customer.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "bolts",
                            "product_id": self.bolt.id,
                            "product_uom_qty": 60,
                            "product_uom": self.bolt.uom_id.id,
                            "location_id": self.stock1.id,
                            "location_dest_id": customer.id,
                        },
                    )
                ],
            }
        )
        delivery.action_confirm()
        data = {
            "transfer": delivery.name,
            "dispatched_at": "2026-11-20T06:30:00Z",
            "lines": [
                {"material": self.bolt.default_code, "quantity": 30},
                {"material": self.bolt.default_code, "quantity": 30},
            ],
        }
        self.assertBusinessError(self.post_event(DISPATCHED, data), "/data/lines/1/quantity", "50")
        self.assertEqual(delivery.state, "assigned")


class WarehouseLoopCase(CommittedCase, PlantFixtures):
    """Committed plant data, a WMS of plant 1 with an API key and a real receiver."""

    def setUp(self):
        super().setUp()
        env = self.env
        self.setup_plants()
        self.customer = env.ref("stock.stock_location_customers")
        self.wms_receiver = self.receiver()
        self.wms = self.make_system(warehouse_id=self.plant1.id)
        self.endpoint = self.make_endpoint(
            self.wms, self.wms_receiver.url, self.event_types(RELEASED, CHANGED, CANCELLED, MATERIAL)
        )
        # Deliveries only: the operation types the 3PL picks are chosen on the subscriptions.
        self.endpoint.subscription_ids.filtered(
            lambda s: s.event_type_id.code != MATERIAL
        ).filter_domain = "[('picking_type_code', '=', 'outgoing')]"
        self.user = env["res.users"].create(
            {
                "name": f"WMS {self.tag}",
                "login": f"wms-{self.tag}",
                "mfg_system_id": self.wms.id,
                "groups_id": [(6, 0, env.ref("stock.group_stock_user").ids)],
            }
        )
        self.key = make_api_key(env, self.user, "wms")
        self.cr.commit()

    def transfer(self, picking_type, source, destination, quantity=5, warehouse=None):
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "location_id": source.id,
                "location_dest_id": destination.id,
                "origin": f"SO-{self.tag}",
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "bolts",
                            "product_id": self.bolt.id,
                            "product_uom_qty": quantity,
                            "product_uom": self.bolt.uom_id.id,
                            "location_id": source.id,
                            "location_dest_id": destination.id,
                        },
                    )
                ],
            }
        )
        picking.action_confirm()
        self.cr.commit()
        return picking

    def delivery(self, quantity=5):
        return self.transfer(self.plant1.out_type_id, self.stock1, self.customer, quantity)

    def get(self, path):
        return self.call_api("GET", path)

    def received(self, event_type):
        return [event["data"] for event in self.wms_receiver.events() if event["type"] == event_type]

    def _cleanup(self):
        self.cr.rollback()
        self.env["res.users.apikeys"].search([("user_id", "=", self.user.id)]).sudo()._remove()
        self.user.active = False
        self.cr.commit()
        return super()._cleanup()


class TestTransferRelease(WarehouseLoopCase):
    def test_ready_delivery_is_released_changed_and_cancelled(self):
        delivery = self.delivery()
        receipt = self.transfer(self.plant1.in_type_id, self.env.ref("stock.stock_location_suppliers"), self.stock1)
        self.assertEqual((delivery.state, receipt.state), ("assigned", "assigned"))
        self.dispatch()
        [released] = self.received(RELEASED)
        self.assertEqual(released["transfer"], delivery.name, "receipts are not subscribed: only the delivery")
        self.assertEqual(
            (released["kind"], released["plant"], released["origin"]), ("outgoing", self.plant1.code, f"SO-{self.tag}")
        )
        self.assertEqual(
            released["lines"],
            [
                {
                    "material": self.bolt.default_code,
                    "quantity": 5,
                    "uom": self.bolt.uom_id.name,
                    "from_location": self.stock1.complete_name,
                    "to_location": self.customer.complete_name,
                    "lots": [],
                }
            ],
        )

        delivery.scheduled_date = fields.Datetime.to_datetime("2026-12-01 08:00:00")
        self.cr.commit()
        delivery.action_cancel()
        self.cr.commit()
        self.dispatch()
        [changed] = self.received(CHANGED)
        self.assertEqual((changed["changed"], changed["scheduled_at"]), (["scheduled_at"], "2026-12-01T08:00:00Z"))
        [cancelled] = self.received(CANCELLED)
        self.assertEqual(cancelled["transfer"], delivery.name)
        self.assertEqual(len(self.received(RELEASED)), 1, "released once")

    def test_open_transfers_on_request_paginated(self):
        deliveries = [self.delivery(quantity) for quantity in (1, 2, 3)]
        self.transfer(self.plant1.in_type_id, self.env.ref("stock.stock_location_suppliers"), self.stock1)
        done = self.delivery(4)
        done.move_ids.quantity = 4
        done.move_ids.picked = True
        done.button_validate()
        self.cr.commit()
        # Other tests' open transfers come before: start after them, as a paging client would.
        first = self.get(f"/api/mfg/v1/transfers?state=open&limit=2&after={deliveries[0].id - 1}")
        self.assertEqual(first.status_code, 200, first.text)
        self.assertEqual([item["transfer"] for item in first.json()["items"]], [d.name for d in deliveries[:2]])
        second = self.get(first.json()["next"])
        self.assertEqual([item["transfer"] for item in second.json()["items"]], [deliveries[2].name])
        self.assertIsNone(second.json()["next"])
        self.assertEqual(second.json()["items"][0]["lines"][0]["quantity"], 3)
        self.assertEqual(self.get("/api/mfg/v1/transfers?state=done").status_code, 400)

    def test_resend_current_state(self):
        delivery = self.delivery()
        self.dispatch()
        delivery.action_mfg_resend_state()
        self.cr.commit()
        self.dispatch()
        self.assertEqual([data["transfer"] for data in self.received(RELEASED)], [delivery.name] * 2)


class TestMaterialMasterData(WarehouseLoopCase):
    def test_material_created_changed_and_full_snapshot(self):
        product = self.env["product.product"].create(
            {"name": f"Nut {self.tag}", "default_code": f"NUT-{self.tag}", "is_storable": True, "tracking": "lot"}
        )
        self.cr.commit()
        product.product_tmpl_id.name = f"Hex nut {self.tag}"
        self.cr.commit()
        self.dispatch()
        mine = [data for data in self.received(MATERIAL) if data["material"] == product.default_code]
        self.assertEqual(
            sorted((data["change"], data["name"], data["tracking"], data["uom"]) for data in mine),
            [
                ("changed", f"Hex nut {self.tag}", "lot", product.uom_id.name),
                ("created", f"Nut {self.tag}", "lot", product.uom_id.name),
            ],
        )

        self.wms_receiver.received.clear()
        result = self.wms.action_mfg_send_snapshot()
        self.cr.commit()
        self.dispatch()
        snapshot = self.received(MATERIAL)
        goods = self.env["product.product"].search_count(
            [("type", "=", "consu"), ("company_id", "in", (False, self.wms.company_id.id))]
        )
        self.assertEqual(len(snapshot), goods, "every material, through the outbox")
        self.assertEqual({data["change"] for data in snapshot}, {"snapshot"})
        self.assertIn(product.default_code, {data["material"] for data in snapshot})
        self.assertIn(f"{goods} {MATERIAL}", result["params"]["message"])
