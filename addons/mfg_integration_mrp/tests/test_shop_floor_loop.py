# The loop commits on purpose: the outbox, the dispatcher and the API's inbox are about commits.
# pylint: disable=invalid-commit
"""The shop-floor loop on real Odoo: release to a real MES receiver, reports back through the HTTP API."""

import uuid

from standardwebhooks.webhooks import Webhook

from odoo import fields

from odoo.addons.mfg_integration.tests.common import EVENT_TIME, CommittedCase, make_api_key

from simulators.mfgsim.client import cloud_event

PERFORMANCE = "mfg.production.performance_reported.v1"
PROGRESS = "mfg.work_order.progress_reported.v1"
DOWNTIME = "mfg.equipment.downtime_reported.v1"
RELEASED = "mfg.production_order.released.v1"
COMPLETED = "mfg.production_order.completed.v1"
MES_SOURCE = "urn:mes:plant1"


class ShopFloorCase(CommittedCase):
    """Committed plant data, a MES system with an API key, and a real MES receiver."""

    def setUp(self):
        super().setUp()
        env = self.env
        self.tag = uuid.uuid4().hex[:6].upper()
        self.warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        self.stock = self.warehouse.lot_stock_id
        Product = env["product.product"]
        self.finished = Product.create(
            {"name": f"Pump {self.tag}", "default_code": f"FG-{self.tag}", "is_storable": True, "tracking": "lot"}
        )
        self.steel = Product.create(
            {"name": f"Steel {self.tag}", "default_code": f"COMP1-{self.tag}", "is_storable": True, "tracking": "lot"}
        )
        self.bolt = Product.create(
            {"name": f"Bolt {self.tag}", "default_code": f"COMP2-{self.tag}", "is_storable": True}
        )
        self.steel_lot = env["stock.lot"].create({"name": f"L-77-{self.tag}", "product_id": self.steel.id})
        env["stock.quant"]._update_available_quantity(self.steel, self.stock, 100, lot_id=self.steel_lot)
        env["stock.quant"]._update_available_quantity(self.bolt, self.stock, 100)
        self.workcenter = env["mrp.workcenter"].create({"name": f"Assembly {self.tag}", "code": f"ASSY-{self.tag}"})
        self.bom = env["mrp.bom"].create(
            {
                "product_tmpl_id": self.finished.product_tmpl_id.id,
                "product_qty": 1,
                "bom_line_ids": [
                    (0, 0, {"product_id": self.steel.id, "product_qty": 2}),
                    (0, 0, {"product_id": self.bolt.id, "product_qty": 1}),
                ],
                "operation_ids": [(0, 0, {"name": "Assemble", "workcenter_id": self.workcenter.id, "time_cycle": 10})],
            }
        )
        env["res.config.settings"].create({"group_mrp_routings": True}).execute()
        self.mes_receiver = self.receiver()
        self.mes = self.make_system(warehouse_id=self.warehouse.id, allow_lot_creation=False)
        types = env["mfg.integration.event.type"].search([("code", "in", [PERFORMANCE, PROGRESS, DOWNTIME])])
        self.mes.inbound_event_type_ids = types
        self.endpoint = self.make_endpoint(
            self.mes,
            self.mes_receiver.url,
            env["mfg.integration.event.type"].search([("code", "in", [RELEASED, COMPLETED])]),
        )
        # The technical user as the README creates it (Technical User on the system form): no e-mail,
        # exactly the rights the allowed inbound types declare.
        self.user = self.mes.action_create_technical_user()
        self.key = make_api_key(env, self.user, "mes")
        self.order = env["mrp.production"].create(
            {"product_id": self.finished.id, "product_qty": 10, "bom_id": self.bom.id}
        )
        self.cr.commit()

    # -- the MES side -------------------------------------------------------------------

    def post(self, event_type, data, event_id=None):
        """POST one event to the real API, as the MES does."""
        return self.call_api(
            "POST",
            "/api/mfg/v1/events",
            json=cloud_event(event_type, data, MES_SOURCE, EVENT_TIME, event_id),
            headers={"Content-Type": "application/cloudevents+json"},
        )

    def ignore(self, response):
        """Support ignores the failed message: later messages about its order then apply (ordered inbox)."""
        self.env["mfg.integration.message"].browse(response.json()["message_id"]).action_inbound_ignore()
        self.cr.commit()

    def report(self, quantity, consumed=None, close=False, occurred_at="2026-11-23T10:00:00Z", **extra):
        data = {
            "production_order": self.order.name,
            "quantity": quantity,
            "lot": f"FG-0001-{self.tag}",
            "occurred_at": occurred_at,
            "close": close,
            **extra,
        }
        if consumed is not None:
            data["consumed"] = consumed
        return self.post(PERFORMANCE, data)

    def steel_used(self, quantity, lot=None):
        return {"material": self.steel.default_code, "quantity": quantity, "lot": lot or self.steel_lot.name}

    def bolts_used(self, quantity):
        return {"material": self.bolt.default_code, "quantity": quantity}

    def on_hand(self, product, lot=None):
        return product.with_context(location=self.stock.id, lot_id=lot.id if lot else None).qty_available

    def _cleanup(self):
        self.cr.rollback()
        self.env["res.users.apikeys"].search([("user_id", "=", self.user.id)]).sudo()._remove()
        self.user.active = False
        self.cr.commit()
        super()._cleanup()


class TestShopFloorLoop(ShopFloorCase):
    def test_release_reports_and_completion_round_trip(self):
        self.order.action_confirm()
        self.cr.commit()
        self.dispatch()
        [released] = self.mes_receiver.received
        # The MES checks the signature with an independent Standard Webhooks implementation.
        Webhook(self.endpoint._signing_secrets()[0]).verify(released.body, released.headers)
        job = released.json()["data"]
        self.assertEqual(job["production_order"], self.order.name)
        self.assertEqual(job["plant"], self.warehouse.code)
        self.assertEqual(job["quantity"], 10)
        self.assertEqual(
            {c["material"]: (c["quantity"], c["tracking"]) for c in job["components"]},
            {self.steel.default_code: (20, "lot"), self.bolt.default_code: (10, "none")},
        )
        self.assertEqual(job["operations"][0]["work_center"], self.workcenter.code)

        start = self.post(
            PROGRESS,
            {
                "production_order": self.order.name,
                "operation": "Assemble",
                "action": "start",
                "occurred_at": "2026-11-23T08:00:00Z",
            },
        )
        self.assertEqual(start.status_code, 200, start.text)
        first = self.report(
            4,
            consumed=[self.steel_used(8), self.bolts_used(4)],
            scrap=[{"material": self.steel.default_code, "quantity": 1, "lot": self.steel_lot.name}],
            occurred_at="2026-11-23T09:00:00Z",
        )
        self.assertEqual(first.status_code, 200, first.text)
        self.assertEqual(first.json()["status"], "processed")
        self.assertEqual(self.order.qty_producing, 4)
        self.assertEqual(self.order.state, "progress")
        downtime = self.post(
            DOWNTIME,
            {
                "work_center": self.workcenter.code,
                "reason": "Equipment Failure",
                "started_at": "2026-11-23T09:10:00Z",
                "ended_at": "2026-11-23T09:40:00Z",
            },
        )
        self.assertEqual(downtime.status_code, 200, downtime.text)
        second = self.report(
            6, consumed=[self.steel_used(12), self.bolts_used(6)], close=True, occurred_at="2026-11-23T11:00:00Z"
        )
        self.assertEqual(second.status_code, 200, second.text)

        order = self.order
        self.assertEqual(order.state, "done")
        self.assertEqual(order.qty_produced, 10)
        finished_lot = self.env["stock.lot"].search([("name", "=", f"FG-0001-{self.tag}")])
        self.assertEqual(self.on_hand(self.finished, finished_lot), 10)
        self.assertEqual(self.on_hand(self.steel, self.steel_lot), 100 - 8 - 12 - 1)
        self.assertEqual(self.on_hand(self.bolt), 90)
        [scrap] = order.scrap_ids
        self.assertEqual((scrap.scrap_qty, scrap.lot_id, scrap.state), (1, self.steel_lot, "done"))
        loss = self.env["mrp.workcenter.productivity"].search(
            [("workcenter_id", "=", self.workcenter.id), ("loss_id.name", "=", "Equipment Failure")]
        )
        self.assertEqual(loss.duration, 30)
        self.assertEqual(order.date_finished, fields.Datetime.to_datetime("2026-11-23 11:00:00"))
        self.assertEqual(
            set(order.move_raw_ids.filtered(lambda m: m.state == "done").mapped("date")),
            {fields.Datetime.to_datetime("2026-11-23 11:00:00")},
            "a buffered report is dated when it happened",
        )

        self.dispatch()
        completed = [event for event in self.mes_receiver.events() if event["type"] == COMPLETED]
        self.assertEqual(len(completed), 1)
        data = completed[0]["data"]
        self.assertEqual(data["produced_quantity"], 10)
        self.assertEqual(data["finished_lots"], [{"lot": finished_lot.name, "quantity": 10}])
        consumed = {(line["material"], line["lot"]): line["quantity"] for line in data["consumed"]}
        self.assertEqual(consumed[(self.steel.default_code, self.steel_lot.name)], 20)
        self.assertEqual(consumed[(self.bolt.default_code, None)], 10)
        self.assertEqual(data["scrap"][0]["quantity"], 1)
        self.cr.commit()
        self.env.invalidate_all()
        self.assertEqual(order.mfg_integration_status, "in_sync")
        self.assertEqual(order.mfg_message_count, 5, "released and completed out; start and two reports in")

    def test_duplicate_report_is_applied_once(self):
        self.order.action_confirm()
        self.cr.commit()
        event_id = str(uuid.uuid4())
        data = {
            "production_order": self.order.name,
            "quantity": 3,
            "lot": "FG-DUP",
            "occurred_at": "2026-11-23T09:00:00Z",
            "consumed": [self.steel_used(6), self.bolts_used(3)],
        }
        first = self.post(PERFORMANCE, data, event_id=event_id)
        again = self.post(PERFORMANCE, data, event_id=event_id)
        self.assertEqual(first.status_code, 200, first.text)
        self.assertEqual(again.status_code, 200)
        self.assertEqual(again.headers.get("Idempotent-Replayed"), "true")
        self.assertEqual(again.json()["message_id"], first.json()["message_id"])
        self.assertEqual(self.order.qty_producing, 3)

    def test_business_errors_name_what_is_wrong(self):
        self.order.action_confirm()
        self.cr.commit()
        unmapped = self.report(2, consumed=[{"material": "NO-SUCH-ITEM", "quantity": 4, "lot": self.steel_lot.name}])
        self.assertEqual(unmapped.status_code, 422)
        self.assertIn("NO-SUCH-ITEM", unmapped.json()["detail"])
        self.assertIn("product", unmapped.json()["detail"])
        # A later report on the same order waits for the failed one (ordered inbox).
        wrong_lot = self.report(2, consumed=[self.steel_used(4, lot="L-404"), self.bolts_used(2)])
        self.assertEqual(wrong_lot.status_code, 424, wrong_lot.text)
        self.assertEqual(wrong_lot.json()["waits_for"], unmapped.json()["message_id"])
        self.assertEqual(self.order.qty_producing, 0, "a failed report leaves nothing half-applied")
        Message = self.env["mfg.integration.message"]
        failed = Message.search([("system_id", "=", self.mes.id), ("state", "=", "dead")])
        waiting = Message.search([("system_id", "=", self.mes.id), ("state", "=", "waiting")])
        self.assertEqual((len(failed), len(waiting)), (1, 1), "both stay in the inbound exceptions for support")
        self.assertEqual((failed | waiting).mapped("record_ref"), [self.order, self.order])
        self.assertEqual(self.order.mfg_integration_status, "failed", "the planner sees it on the order")
        self.assertIn(self.order, self.env["mrp.production"].search([("mfg_integration_status", "=", "failed")]))

        # Support maps the MES's code and reprocesses: the message is applied.
        self.env["mfg.integration.code.mapping"].create(
            {
                "system_id": self.mes.id,
                "kind": "product",
                "external_code": "NO-SUCH-ITEM",
                "target_ref": f"product.product,{self.steel.id}",
            }
        )
        self.cr.commit()
        message = self.env["mfg.integration.message"].browse(unmapped.json()["message_id"])
        self.assertEqual(message.action_inbound_reprocess(), {message.id: "processed"})
        self.assertEqual(message.action_inbound_reprocess(), {}, "a processed message is not applied again")
        self.cr.commit()
        self.env.invalidate_all()
        self.assertEqual(message.state, "done")
        self.assertEqual(waiting.state, "dead", "applied after it, in order: its own lot error stands")
        self.assertIn("L-404", waiting.last_error)
        self.assertEqual(self.order.qty_producing, 2)
        steel_move = self.order.move_raw_ids.filtered(lambda m: m.product_id == self.steel)
        self.assertEqual(steel_move.move_line_ids.mapped(lambda l: (l.lot_id, l.quantity)), [(self.steel_lot, 4)])

    def test_report_on_a_done_order_is_refused(self):
        self.order.action_confirm()
        self.cr.commit()
        self.assertEqual(
            self.report(10, consumed=[self.steel_used(20), self.bolts_used(10)], close=True).status_code, 200
        )
        late = self.report(1, consumed=[self.steel_used(2), self.bolts_used(1)])
        self.assertEqual(late.status_code, 422)
        self.assertIn("done", late.json()["detail"])
        self.assertEqual(self.order.qty_produced, 10)

    def test_each_plant_hears_only_its_own_orders(self):
        other_warehouse = self.env["stock.warehouse"].create({"name": f"Plant 2 {self.tag}", "code": self.tag[:5]})
        plant2_receiver = self.receiver()
        plant2 = self.make_system(warehouse_id=other_warehouse.id)
        self.make_endpoint(plant2, plant2_receiver.url, self.endpoint.subscription_ids.event_type_id)
        order2 = self.env["mrp.production"].create(
            {
                "product_id": self.finished.id,
                "product_qty": 1,
                "bom_id": self.bom.id,
                "picking_type_id": other_warehouse.manu_type_id.id,
            }
        )
        self.cr.commit()
        (self.order | order2).action_confirm()
        self.cr.commit()
        self.dispatch()
        self.assertEqual([e["data"]["production_order"] for e in self.mes_receiver.events()], [self.order.name])
        self.assertEqual([e["data"]["production_order"] for e in plant2_receiver.events()], [order2.name])
