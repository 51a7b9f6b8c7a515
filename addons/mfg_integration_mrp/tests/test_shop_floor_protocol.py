# The loop commits on purpose: the outbox, the dispatcher and the API's inbox are about commits.
# pylint: disable=invalid-commit
"""The shop-floor protocol as an MES lives it over HTTP: per-BOM reports, serials, backorders,
standalone close and buffered (late, out-of-order) events."""

from datetime import datetime, timezone

from odoo import fields

from simulators.mfgsim.client import cloud_event

from .test_shop_floor_loop import COMPLETED, MES_SOURCE, PERFORMANCE, PROGRESS, RELEASED, ShopFloorCase

FLUSHED_AT = datetime(2026, 11, 23, 12, 59, tzinfo=timezone.utc)  # the MES flushes its buffer after an outage


def at(text):
    return fields.Datetime.to_datetime(text)


class TestShopFloorProtocol(ShopFloorCase):
    def confirm(self, order):
        order.action_confirm()
        self.cr.commit()
        return order

    def order_of(self, product, quantity, bom):
        order = self.env["mrp.production"].create({"product_id": product.id, "product_qty": quantity, "bom_id": bom.id})
        self.cr.commit()
        return self.confirm(order)

    def untracked_product(self, tracking="none"):
        """A product made of bolts only (untracked components: per-BOM consumption applies)."""
        product = self.env["product.product"].create(
            {
                "name": f"Fan {tracking} {self.tag}",
                "default_code": f"FAN-{tracking}-{self.tag}",
                "is_storable": True,
                "tracking": tracking,
            }
        )
        bom = self.env["mrp.bom"].create(
            {
                "product_tmpl_id": product.product_tmpl_id.id,
                "product_qty": 1,
                "bom_line_ids": [(0, 0, {"product_id": self.bolt.id, "product_qty": 2})],
            }
        )
        return product, bom

    def produce(self, order, **data):
        return self.post(PERFORMANCE, {"production_order": order, "occurred_at": "2026-11-23T10:00:00Z", **data})

    def post_batch(self, events):
        return self.call_api(
            "POST",
            "/api/mfg/v1/events/batch",
            json=[cloud_event(event_type, data, MES_SOURCE, FLUSHED_AT) for event_type, data in events],
            headers={"Content-Type": "application/cloudevents-batch+json"},
        )

    def test_report_without_consumption_consumes_the_bom_share(self):
        fan, bom = self.untracked_product()
        order = self.order_of(fan, 10, bom)
        first = self.produce(order.name, quantity=4)
        self.assertEqual(first.status_code, 200, first.text)
        again = self.produce(order.name, quantity=6, close=True)
        self.assertEqual(again.status_code, 200, again.text)
        self.assertEqual((order.state, order.qty_produced), ("done", 10))
        self.assertEqual(order.move_raw_ids.quantity, 20, "2 bolts per fan, per BOM")
        self.assertEqual(self.on_hand(self.bolt), 80)
        self.assertEqual(self.on_hand(fan), 10)

    def test_serial_order_takes_one_report_per_serial_and_closes_once(self):
        gauge, bom = self.untracked_product("serial")
        order = self.order_of(gauge, 3, bom)
        serials = [f"SN-{n}-{self.tag}" for n in (1, 2, 3)]
        for serial in serials:
            response = self.produce(order.name, quantity=1, lot=serial)
            self.assertEqual(response.status_code, 200, response.text)
        twice = self.produce(order.name, quantity=1, lot=serials[0])
        self.assertEqual(twice.status_code, 422)
        self.assertIn(serials[0], twice.json()["detail"])
        self.ignore(twice)
        two_units = self.produce(order.name, quantity=2, lot=f"SN-9-{self.tag}")
        self.assertEqual(two_units.status_code, 422)
        self.assertIn("one unit per serial", two_units.json()["detail"])
        self.ignore(two_units)
        self.assertIn(order.state, ("progress", "to_close"), "one report per serial does not close the order")

        close = self.produce(order.name, close=True, occurred_at="2026-11-23T11:00:00Z")
        self.assertEqual(close.status_code, 200, close.text)
        self.assertEqual((order.state, order.qty_produced), ("done", 3))
        self.assertEqual(
            self.env["mrp.production"].search_count([("procurement_group_id", "=", order.procurement_group_id.id)]),
            1,
            "no backorder",
        )
        lots = self.env["stock.lot"].search([("product_id", "=", gauge.id)])
        self.assertEqual(sorted(lots.mapped("name")), serials)
        for lot in lots:
            self.assertEqual(self.on_hand(gauge, lot), 1)
        self.assertEqual(self.on_hand(self.bolt), 94)

        self.dispatch()
        [completed] = [e["data"] for e in self.mes_receiver.events() if e["type"] == COMPLETED]
        self.assertEqual(
            sorted((line["lot"], line["quantity"]) for line in completed["finished_lots"]), [(s, 1) for s in serials]
        )

    def test_several_finished_lots_on_one_order(self):
        self.confirm(self.order)
        for lot, quantity in (("A", 4), ("B", 6)):
            response = self.report(
                quantity,
                consumed=[self.steel_used(2 * quantity), self.bolts_used(quantity)],
                lot=f"FG-{lot}-{self.tag}",
            )
            self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(self.produce(self.order.name, close=True).status_code, 200)
        for lot, quantity in (("A", 4), ("B", 6)):
            lot = self.env["stock.lot"].search([("name", "=", f"FG-{lot}-{self.tag}")])
            self.assertEqual(self.on_hand(self.finished, lot), quantity)

    def test_consumption_from_another_lot_than_reserved(self):
        """The first report rewrites what Odoo reserved to the reported lot; a later one adds its own
        line: the lots consumed are the reported ones and nothing stays reserved."""
        other_lot = self.env["stock.lot"].create({"name": f"L-88-{self.tag}", "product_id": self.steel.id})
        self.env["stock.quant"]._update_available_quantity(self.steel, self.stock, 100, lot_id=other_lot)
        self.confirm(self.order)
        steel_move = self.order.move_raw_ids.filtered(lambda move: move.product_id == self.steel)
        reserved_lot = steel_move.move_line_ids.lot_id
        self.assertEqual(len(reserved_lot), 1, "Odoo reserved the steel from one lot")
        unreserved_lot = (self.steel_lot | other_lot) - reserved_lot
        first = self.report(4, consumed=[self.steel_used(8, unreserved_lot.name), self.bolts_used(4)])
        self.assertEqual(first.status_code, 200, first.text)
        second = self.report(6, consumed=[self.steel_used(12, reserved_lot.name), self.bolts_used(6)], close=True)
        self.assertEqual(second.status_code, 200, second.text)
        self.env.invalidate_all()
        self.assertEqual((self.order.state, self.order.qty_produced), ("done", 10))
        self.assertEqual(
            sorted((line.lot_id.name, line.quantity) for line in steel_move.move_line_ids),
            sorted([(unreserved_lot.name, 8), (reserved_lot.name, 12)]),
        )
        self.assertEqual(self.on_hand(self.steel, unreserved_lot), 92)
        self.assertEqual(self.on_hand(self.steel, reserved_lot), 88)
        self.assertEqual(self.on_hand(self.bolt), 90)
        quants = self.env["stock.quant"].search([("product_id", "in", (self.steel | self.bolt).ids)])
        self.assertEqual(set(quants.mapped("reserved_quantity")), {0}, "nothing left reserved")

    def test_standalone_close(self):
        self.confirm(self.order)
        nothing = self.produce(self.order.name, close=True)
        self.assertEqual(nothing.status_code, 422, "nothing reported: nothing to close")
        self.ignore(nothing)
        self.assertEqual(self.report(10, consumed=[self.steel_used(20), self.bolts_used(10)]).status_code, 200)
        self.assertEqual(self.order.state, "progress")
        close = self.produce(self.order.name, close=True, occurred_at="2026-11-23T12:00:00Z")
        self.assertEqual(close.status_code, 200, close.text)
        self.assertEqual((self.order.state, self.order.qty_produced), ("done", 10))
        self.assertEqual(self.order.date_finished, at("2026-11-23 12:00:00"))
        empty = self.post(PERFORMANCE, {"production_order": self.order.name, "occurred_at": "2026-11-23T12:00:00Z"})
        self.assertEqual(empty.status_code, 422, "a report needs a quantity, a consumption, scrap or a close")

    def test_short_close_releases_the_backorder_and_keeps_the_name(self):
        self.confirm(self.order)
        released_name = self.order.name
        self.dispatch()
        short = self.report(4, consumed=[self.steel_used(8), self.bolts_used(4)], close=True)
        self.assertEqual(short.status_code, 200, short.text)
        self.assertEqual(self.order.state, "done")
        backorder = self.env["mrp.production"].search([("mfg_backorder_of_id", "=", self.order.id)])
        self.assertEqual((backorder.product_qty, backorder.state), (6, "confirmed"))

        self.dispatch()
        events = self.mes_receiver.events()
        [completed] = [e["data"] for e in events if e["type"] == COMPLETED]
        self.assertEqual(
            (completed["production_order"], completed["produced_quantity"]),
            (released_name, 4),
            "the MES hears about the order under the name it was given",
        )
        released = [e["data"] for e in events if e["type"] == RELEASED]
        self.assertEqual([job["production_order"] for job in released], [released_name, backorder.name])
        self.assertEqual((released[1]["backorder_of"], released[1]["quantity"]), (released_name, 6))
        self.assertIsNone(released[0]["backorder_of"])

        # A report in flight under the original name carries on on the backorder.
        late = self.report(
            6, consumed=[self.steel_used(12), self.bolts_used(6)], close=True, production_order=released_name
        )
        self.assertEqual(late.status_code, 200, late.text)
        self.assertEqual((backorder.state, backorder.qty_produced), ("done", 6))
        self.assertEqual(self.order.qty_produced, 4)
        done = self.report(1, consumed=[self.steel_used(2), self.bolts_used(1)], production_order=released_name)
        self.assertEqual(done.status_code, 422, "both done: a report on a done order")

    def test_buffered_out_of_order_batch_keeps_shop_floor_times(self):
        self.confirm(self.order)
        start = {
            "production_order": self.order.name,
            "operation": "Assemble",
            "action": "start",
            "occurred_at": "2026-11-23T07:59:00Z",
        }
        lot = f"FG-0001-{self.tag}"

        def report(quantity, when, **extra):
            return {
                "production_order": self.order.name,
                "quantity": quantity,
                "lot": lot,
                "consumed": [self.steel_used(2 * quantity), self.bolts_used(quantity)],
                "occurred_at": when,
                **extra,
            }

        # Flushed at 12:59 after an outage, the 08:59 report behind the 09:59 one.
        batch = self.post_batch(
            [
                (PERFORMANCE, report(3, "2026-11-23T09:59:00Z")),
                (PROGRESS, start),
                (PERFORMANCE, report(4, "2026-11-23T08:59:00Z")),
                (PERFORMANCE, report(3, "2026-11-23T10:59:00Z", close=True)),
            ]
        )
        self.assertEqual(batch.status_code, 207, batch.text)
        self.assertEqual([result["status"] for result in batch.json()["results"]], [200] * 4, batch.text)
        order = self.order
        self.assertEqual((order.state, order.qty_produced), ("done", 10))
        self.assertEqual(order.date_start, at("2026-11-23 07:59:00"))
        self.assertEqual(order.date_finished, at("2026-11-23 10:59:00"))
        [workorder] = order.workorder_ids
        self.assertEqual(
            (workorder.date_start, workorder.date_finished), (at("2026-11-23 07:59:00"), at("2026-11-23 10:59:00"))
        )
        [log] = workorder.time_ids
        self.assertEqual(
            (log.date_start, log.date_end, log.duration), (at("2026-11-23 07:59:00"), at("2026-11-23 10:59:00"), 180)
        )
        self.assertEqual(log.loss_id.loss_type, "productive")
        self.assertEqual(
            set((order.move_raw_ids | order.move_finished_ids).filtered(lambda m: m.state == "done").mapped("date")),
            {at("2026-11-23 10:59:00")},
        )
        self.dispatch()
        [completed] = [e["data"] for e in self.mes_receiver.events() if e["type"] == COMPLETED]
        self.assertEqual(completed["completed_at"], "2026-11-23T10:59:00Z")

    def test_pause_and_finish_log_the_reported_times(self):
        self.confirm(self.order)
        for action, when in (("start", "07:00"), ("pause", "08:00"), ("resume", "08:30"), ("finish", "09:00")):
            response = self.post(
                PROGRESS,
                {
                    "production_order": self.order.name,
                    "operation": "Assemble",
                    "action": action,
                    "occurred_at": f"2026-11-23T{when}:00Z",
                },
            )
            self.assertEqual(response.status_code, 200, response.text)
        [workorder] = self.order.workorder_ids
        self.assertEqual(
            sorted((log.date_start, log.date_end) for log in workorder.time_ids),
            [
                (at("2026-11-23 07:00:00"), at("2026-11-23 08:00:00")),
                (at("2026-11-23 08:30:00"), at("2026-11-23 09:00:00")),
            ],
        )
        self.assertEqual((workorder.state, workorder.duration), ("done", 90))
        self.assertEqual(workorder.date_finished, at("2026-11-23 09:00:00"))


class TestShopFloorResync(ShopFloorCase):
    def get(self, path, key=None):
        return self.call_api("GET", path, key)

    def test_open_orders_on_request_in_pages(self):
        Production = self.env["mrp.production"]
        orders = self.order | Production.create(
            [{"product_id": self.finished.id, "product_qty": qty, "bom_id": self.bom.id} for qty in (2, 3, 4)]
        )
        other_plant = self.env["stock.warehouse"].create({"name": f"Plant 2 {self.tag}", "code": self.tag[:5]})
        elsewhere = Production.create(
            {
                "product_id": self.finished.id,
                "product_qty": 1,
                "bom_id": self.bom.id,
                "picking_type_id": other_plant.manu_type_id.id,
            }
        )
        (orders | elsewhere).action_confirm()
        orders[3].action_cancel()
        self.cr.commit()
        # Other tests' open orders come first: a client pages from where it wants.
        first = self.get(f"/api/mfg/v1/production-orders?state=open&limit=2&after={self.order.id - 1}")
        self.assertEqual(first.status_code, 200, first.text)
        self.assertEqual([job["production_order"] for job in first.json()["items"]], orders[:2].mapped("name"))
        second = self.get(first.json()["next"])
        self.assertEqual(second.status_code, 200, second.text)
        [job] = second.json()["items"]
        self.assertIsNone(second.json()["next"], "the other plant's and the cancelled orders are not listed")
        self.assertEqual((job["production_order"], job["quantity"]), (orders[2].name, 3))
        self.assertEqual(
            {c["material"]: c["quantity"] for c in job["components"]},
            {self.steel.default_code: 6, self.bolt.default_code: 3},
        )
        self.assertEqual(job["operations"][0]["work_center"], self.workcenter.code)
        self.assertEqual(self.get("/api/mfg/v1/production-orders?state=open&limit=0").status_code, 400)
        # An integrator finds the route in the OpenAPI document, its items typed as the released job order.
        document = self.get("/api/mfg/v1/openapi.json").json()
        page = document["paths"]["/api/mfg/v1/production-orders"]["get"]["responses"]["200"]["content"]
        items = page["application/json"]["schema"]["properties"]["items"]["items"]
        self.assertEqual(items, {"$ref": f"#/components/schemas/data.{RELEASED}"})
        self.assertIn(f"data.{RELEASED}", document["components"]["schemas"])

    def test_resend_current_state(self):
        self.order.action_confirm()
        self.cr.commit()
        self.dispatch()
        self.order.action_mfg_resend_state()
        self.cr.commit()
        self.dispatch()
        released = [e["data"] for e in self.mes_receiver.events() if e["type"] == RELEASED]
        self.assertEqual([job["production_order"] for job in released], [self.order.name] * 2)

    def test_master_data_changes_and_full_snapshot(self):
        types = self.env["mfg.integration.event.type"].search(
            [("code", "in", ["mfg.bom.changed.v1", "mfg.work_center.changed.v1"])]
        )
        self.endpoint.subscription_ids = [(0, 0, {"event_type_id": t.id}) for t in types]
        self.cr.commit()
        self.workcenter.name = f"Assembly line {self.tag}"
        self.cr.commit()
        self.dispatch()
        [changed] = [e["data"] for e in self.mes_receiver.events() if e["type"] == "mfg.work_center.changed.v1"]
        self.assertEqual(
            (changed["work_center"], changed["name"], changed["change"]),
            (self.workcenter.code, f"Assembly line {self.tag}", "changed"),
        )

        self.mes_receiver.received.clear()
        self.mes.action_mfg_send_snapshot()
        self.cr.commit()
        self.dispatch()
        events = self.mes_receiver.events()
        boms = {e["data"]["bom_id"]: e["data"] for e in events if e["type"] == "mfg.bom.changed.v1"}
        company = [("company_id", "in", (False, self.mes.company_id.id))]
        self.assertEqual(len(boms), self.env["mrp.bom"].search_count(company))
        bom = boms[self.bom.id]
        self.assertEqual(
            (bom["product"], bom["change"], [c["material"] for c in bom["components"]]),
            (self.finished.default_code, "snapshot", [self.steel.default_code, self.bolt.default_code]),
        )
        self.assertEqual(bom["operations"][0]["work_center"], self.workcenter.code)
        centers = [e["data"]["work_center"] for e in events if e["type"] == "mfg.work_center.changed.v1"]
        self.assertEqual(len(centers), self.env["mrp.workcenter"].search_count(company))
        self.assertIn(self.workcenter.code, centers)
