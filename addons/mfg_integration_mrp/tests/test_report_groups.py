# The inbox commits on purpose: a batch's reports are applied and committed by the API itself.
# pylint: disable=invalid-commit
"""Production reports applied together: a batch's (or the inbound cron's) consecutive reports on
different orders go through one handler call and one close, and fall back to one by one."""

import json
import uuid
from datetime import datetime
from unittest.mock import patch

from odoo.addons.mfg_integration.tests.common import EVENT_TIME

from simulators.mfgsim.client import cloud_event

from .test_shop_floor_loop import COMPLETED, MES_SOURCE, PERFORMANCE, ShopFloorCase

BATCH = "/api/mfg/v1/events/batch"


class TestReportGroups(ShopFloorCase):
    def setUp(self):
        super().setUp()
        # Orders without operations: their closes are the ones made together (open work orders close alone).
        self.bom.operation_ids.unlink()
        self.orders = self.env["mrp.production"].create(
            [{"product_id": self.finished.id, "product_qty": 10, "bom_id": self.bom.id} for _ in range(4)]
        )
        self.orders.action_confirm()
        self.cr.commit()

    def full_report(self, order, steel_lot=None, quantity=10, close=True, occurred_at="2026-11-23T10:00:00Z"):
        data = {
            "production_order": order.name,
            "quantity": quantity,
            "lot": f"FG-{order.id}-{self.tag}",
            "occurred_at": occurred_at,
            "consumed": [self.steel_used(2 * quantity, steel_lot), self.bolts_used(quantity)],
            "close": close,
        }
        return cloud_event(PERFORMANCE, data, MES_SOURCE, EVENT_TIME, str(uuid.uuid4()))

    def post_batch(self, events, prefer_async=False):
        headers = {"Content-Type": "application/cloudevents-batch+json"}
        if prefer_async:
            headers["Prefer"] = "respond-async"
        response = self.call_api("POST", BATCH, json=events, headers=headers)
        self.assertEqual(response.status_code, 207, response.text)
        return response.json()["results"]

    def messages(self, events):
        Message = self.env["mfg.integration.message"]
        by_event = {m.event_id: m for m in Message.search([("event_id", "in", [e["id"] for e in events])])}
        return Message.concat(*(by_event[event["id"]] for event in events))

    def finished_on_hand(self, order):
        lot = self.env["stock.lot"].search([("name", "=", f"FG-{order.id}-{self.tag}")])
        return self.on_hand(self.finished, lot) if lot else 0

    def count_closes(self):
        """Count the button_mark_done calls of the orders (each call's orders)."""
        Production = type(self.env["mrp.production"])
        calls = []
        original = Production.button_mark_done

        def counted(records):
            calls.append(len(records))
            return original(records)

        return calls, patch.object(Production, "button_mark_done", counted)

    def reports_failing_third(self):
        """A full report per order; the third names an unknown steel lot."""
        return [
            self.full_report(order, steel_lot="NO-SUCH-LOT" if index == 2 else None)
            for index, order in enumerate(self.orders)
        ]

    def assert_middle_failure_applied_alone(self, events, results_kinds):
        """The third report named an unknown steel lot: the others applied once, it refused alone."""
        first, second, failing, fourth = self.orders
        self.assertEqual(results_kinds, [200, 200, 422, 200])
        messages = self.messages(events)
        self.assertEqual(messages.mapped("state"), ["done", "done", "dead", "done"])
        self.assertEqual(messages.mapped("attempt_count"), [1, 1, 1, 1], "one attempt each, not one per try")
        self.assertIn("NO-SUCH-LOT", messages[2].last_error)
        self.assertEqual(messages[2].error_path, "/data/consumed/0/lot")
        self.assertEqual((first | second | fourth).mapped("state"), ["done"] * 3)
        self.assertEqual((first | second | fourth).mapped("qty_produced"), [10] * 3)
        self.assertEqual([self.finished_on_hand(order) for order in self.orders], [10, 10, 0, 10])
        self.assertEqual(failing.state, "confirmed")
        self.assertEqual(failing.qty_producing, 0)
        self.assertFalse(failing.move_raw_ids.filtered("mfg_reported"), "nothing of the failed report is kept")
        self.assertEqual(self.on_hand(self.steel, self.steel_lot), 100 - 3 * 20)
        self.assertEqual(self.on_hand(self.bolt), 100 - 3 * 10)

    def test_a_failing_report_in_a_batch_group_is_refused_alone_and_nothing_is_applied_twice(self):
        events = self.reports_failing_third()
        results = self.post_batch(events)
        self.assertEqual(results[2]["body"]["type"], "urn:mfg-integration:problem:business-error")
        self.assertIn("NO-SUCH-LOT", results[2]["body"]["detail"])
        self.assertEqual([r["body"]["status"] for r in results if r["status"] == 200], ["processed"] * 3)
        self.assert_middle_failure_applied_alone(events, [r["status"] for r in results])

        again = self.post_batch(events)
        self.assertEqual([r["replayed"] for r in again], [True] * 4)
        self.assertEqual([r["status"] for r in again], [200, 200, 422, 200])
        self.assert_middle_failure_applied_alone(events, [r["status"] for r in again])

    def test_the_inbound_cron_applies_a_group_the_same_way(self):
        events = self.reports_failing_third()
        results = self.post_batch(events, prefer_async=True)
        self.assertEqual([r["status"] for r in results], [202] * 4)
        self.assertEqual(self.messages(events).mapped("state"), ["pending"] * 4)
        with self.registry.cursor() as cr:  # the cron commits: a cursor of its own
            self.env(cr=cr)["mfg.integration.message"]._cron_process_inbound(time_budget=30)
        self.cr.commit()
        self.env.invalidate_all()
        statuses = [self.call_api("GET", f"/api/mfg/v1/messages/{r['body']['message_id']}").json() for r in results]
        self.assertEqual([s["http_status"] for s in statuses], [200, 200, 422, 200])
        self.assert_middle_failure_applied_alone(events, [s["http_status"] for s in statuses])

    def test_reports_on_different_orders_close_together_each_completed_event_caused_by_its_report(self):
        first, second, third, fourth = self.orders
        events = [
            self.full_report(first, quantity=4, close=False),
            self.full_report(second),
            # The same order again: applied after its first report, never in the same group.
            self.full_report(first, quantity=6),
            self.full_report(third),
            self.full_report(fourth),
        ]
        calls, counting = self.count_closes()
        with counting:
            results = self.post_batch(events)
        self.assertEqual([r["status"] for r in results], [200] * 5, results)
        self.assertEqual(self.orders.mapped("state"), ["done"] * 4)
        self.assertEqual(self.orders.mapped("qty_produced"), [10] * 4)
        self.assertEqual(first.move_finished_ids.move_line_ids.mapped("quantity"), [10])
        self.assertEqual(sorted(calls), [1, 3], "second in one group, first, third and fourth in the next")
        self.assertEqual(self.on_hand(self.steel, self.steel_lot), 100 - 4 * 20)
        causes = {
            message.res_id: message.causation_id
            for message in self.messages_of(self.endpoint).filtered(lambda m: m.event_type_id.code == COMPLETED)
        }
        reports = {first.id: events[2], second.id: events[1], third.id: events[3], fourth.id: events[4]}
        self.assertEqual(causes, {order_id: event["id"] for order_id, event in reports.items()})

    def test_orders_closed_together_each_keep_their_reports_time(self):
        times = ["2026-11-23T10:00:00Z", "2026-11-23T10:07:30Z", "2026-11-23T09:55:00Z", "2026-11-23T10:12:00Z"]
        events = [self.full_report(order, occurred_at=time) for order, time in zip(self.orders, times, strict=True)]
        calls, counting = self.count_closes()
        with counting:
            results = self.post_batch(events)
        self.assertEqual([r["status"] for r in results], [200] * 4, results)
        self.assertEqual(calls, [4], "one close for the four orders, whatever their times")
        for order, time in zip(self.orders, times, strict=True):
            expected = datetime.fromisoformat(time.replace("Z", "+00:00")).replace(tzinfo=None)
            self.assertEqual(order.state, "done")
            self.assertEqual(order.date_start, expected, order.name)
            self.assertEqual(order.date_finished, expected, order.name)
            moves = order.move_raw_ids | order.move_finished_ids
            self.assertEqual(set(moves.mapped("date")), {expected}, order.name)
            self.assertEqual(set(moves.move_line_ids.mapped("date")), {expected}, order.name)
        completed = {
            message.res_id: message
            for message in self.messages_of(self.endpoint).filtered(lambda m: m.event_type_id.code == COMPLETED)
        }
        for order, time in zip(self.orders, times, strict=True):
            self.assertEqual(json.loads(completed[order.id].payload)["completed_at"], time, order.name)

    def test_orders_closed_together_each_push_their_goods_as_the_rules_say(self):
        # One close looks each push rule up once for all its orders: every order is pushed anyway.
        shelf = self.env["stock.location"].create({"name": f"Shelf {self.tag}", "location_id": self.stock.id})
        rule = {
            "name": f"Stock to shelf {self.tag}",
            "action": "push",
            "location_src_id": self.stock.id,
            "location_dest_id": shelf.id,
            "picking_type_id": self.warehouse.int_type_id.id,
        }
        route = self.env["stock.route"].create(
            {"name": f"Shelve {self.tag}", "product_selectable": True, "rule_ids": [(0, 0, rule)]}
        )
        self.finished.route_ids |= route
        self.cr.commit()
        calls, counting = self.count_closes()
        with counting:
            results = self.post_batch([self.full_report(order) for order in self.orders])
        self.assertEqual([r["status"] for r in results], [200] * 4, results)
        self.assertEqual(calls, [4])
        for order in self.orders:
            pushed = order.move_finished_ids.move_dest_ids
            self.assertEqual(pushed.location_dest_id, shelf, order.name)
            self.assertEqual(pushed.product_uom_qty, 10, order.name)

    def test_a_report_waiting_for_one_of_a_cron_group_is_applied_after_it(self):
        first, second = self.orders[:2]
        queued = self.post_batch(
            [self.full_report(first, quantity=4, close=False), self.full_report(second)], prefer_async=True
        )
        self.assertEqual([r["status"] for r in queued], [202, 202])
        later = self.full_report(first, quantity=6)
        waiting = self.call_api(
            "POST", "/api/mfg/v1/events", json=later, headers={"Content-Type": "application/cloudevents+json"}
        )
        self.assertEqual(waiting.status_code, 424, waiting.text)
        with self.registry.cursor() as cr:  # the cron commits: a cursor of its own
            self.env(cr=cr)["mfg.integration.message"]._cron_process_inbound(time_budget=30)
        self.cr.commit()
        self.env.invalidate_all()
        self.assertEqual(self.messages([later]).state, "done")
        self.assertEqual((first | second).mapped("state"), ["done", "done"])
        self.assertEqual(first.qty_produced, 10)
