"""An MES's work in progress compared with Odoo at the snapshot's as_of, and its differences resolved."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import WIP_OUT, ReconciliationCase


@tagged("post_install", "-at_install")
class TestWipReconciliation(ReconciliationCase):
    def setUp(self):
        super().setUp()
        self.order1 = self.make_order(10)
        self.order2 = self.make_order(5)
        self.report_production(self.order1, 4, self.hours_ago(3))

    def test_matching_snapshot_has_no_difference(self):
        # Reported after the snapshot's as_of: Odoo's state at as_of does not count it.
        self.report_production(self.order1, 2, self.hours_ago(1))
        self.assertEqual(self.order1.qty_producing, 6)
        result = self.assertProcessed(
            self.wip_snapshot(
                [
                    {"production_order": self.order1.name, "status": "in_progress", "produced_quantity": 4},
                    {"production_order": self.order2.name, "status": "released", "produced_quantity": 0},
                ],
                self.hours_ago(2),
            )
        )
        run = self.run_of(result)
        self.assertEqual((result["state"], result["differences"]), ("compared", 0))
        self.assertEqual((run.state, run.scope, run.system_id), ("compared", "wip", self.mes))
        self.assertFalse(run.line_ids)

    def drifted_snapshot(self):
        """The MES reports order 1 at 6 produced (Odoo: 4), misses order 2 and has one Odoo never heard of."""
        return self.assertProcessed(
            self.wip_snapshot(
                [
                    {"production_order": self.order1.name, "status": "in_progress", "produced_quantity": 6},
                    {"production_order": "MES-ONLY-77", "status": "released", "produced_quantity": 0},
                ],
                self.hours_ago(1),
            )
        )

    def test_quantity_drift_and_missing_orders(self):
        result = self.drifted_snapshot()
        run = self.run_of(result)
        self.assertEqual(result["differences"], 3)
        self.assertEqual(
            self.lines_as_tuples(run),
            [
                ("missing_in_odoo", "MES-ONLY-77", "status", "", "released"),
                ("missing_in_system", self.order2.name, "status", "released", ""),
                ("quantity", self.order1.name, "produced", "4.0", "6.0"),
            ],
        )
        drift = run.line_ids.filtered(lambda line: line.kind == "quantity")
        self.assertEqual((drift.odoo_quantity, drift.system_quantity, drift.production_id), (4, 6, self.order1))

    def test_tolerance_per_product_category(self):
        self.env["mfg.integration.reconciliation.tolerance"].create(
            {"categ_id": self.pump.categ_id.id, "uom_id": self.pump.uom_id.id, "percent": 60}
        )
        result = self.assertProcessed(
            self.wip_snapshot(
                [
                    {"production_order": self.order1.name, "status": "in_progress", "produced_quantity": 6},
                    {"production_order": self.order2.name, "status": "released", "produced_quantity": 0},
                ],
                self.hours_ago(1),
            )
        )
        self.assertEqual(result["differences"], 0)

    def drifted_run(self):
        result = self.drifted_snapshot()
        run = self.run_of(result)
        lines = {line.kind: line.with_user(self.manager) for line in run.line_ids}
        return run, lines

    def test_accept_system_quantity_reports_production(self):
        _run, lines = self.drifted_run()
        lines["quantity"].action_accept_system_value()
        self.assertEqual(self.order1.qty_producing, 6)
        self.assertEqual(self.order1.mfg_reported_qty, 6)
        line = lines["quantity"]
        self.assertEqual((line.state, line.resolved_by_id), ("accepted", self.manager))
        self.assertTrue(line.resolved_at)
        self.assertIn("2.0", line.resolution_note)

    def test_accept_status_closes_the_order(self):
        result = self.assertProcessed(
            self.wip_snapshot(
                [
                    {"production_order": self.order1.name, "status": "completed", "produced_quantity": 4},
                    {"production_order": self.order2.name, "status": "released", "produced_quantity": 0},
                ],
                self.hours_ago(1),
            )
        )
        # Closing an order checks quality triggers when the quality control add-ons are installed:
        # whoever closes it then needs their read access, as in the client.
        quality_user = self.env.ref("quality_control_oca.group_quality_control_user", raise_if_not_found=False)
        if quality_user:
            self.manager.groups_id = [(4, quality_user.id)]
        line = self.run_of(result).line_ids.with_user(self.manager)
        self.assertEqual((line.kind, line.odoo_value, line.system_value), ("status", "in_progress", "completed"))
        line.action_accept_system_value()
        self.assertEqual(self.order1.state, "done")
        self.assertEqual(self.order1.qty_produced, 4)
        self.assertEqual(line.state, "accepted")

    def test_accept_impossible_value_is_refused(self):
        _run, lines = self.drifted_run()
        with self.assertRaisesRegex(UserError, "re-send Odoo's state or explain"):
            lines["missing_in_odoo"].action_accept_system_value()
        self.assertEqual(lines["missing_in_odoo"].state, "open")

    def test_resend_odoo_state_through_the_outbox(self):
        endpoint = self.subscribe(self.mes, WIP_OUT)
        _run, lines = self.drifted_run()
        lines["missing_in_system"].action_resend_odoo_state()
        (event,) = self.sent(endpoint)
        self.assertTrue(event["partial"])
        self.assertEqual((event["page"], event["pages"], event["plant"]), (1, 1, self.plant.code))
        (order,) = event["orders"]
        self.assertEqual(
            (order["production_order"], order["product"], order["status"], order["quantity"]),
            (self.order2.name, self.pump.default_code, "released", 5),
        )
        line = lines["missing_in_system"]
        self.assertEqual((line.state, line.resolved_by_id), ("resent", self.manager))

    def test_resend_without_subscribed_endpoint_is_refused(self):
        _run, lines = self.drifted_run()
        with self.assertRaisesRegex(UserError, "nothing can be re-sent"):
            lines["missing_in_system"].action_resend_odoo_state()

    def test_mark_explained_many_lines_with_reason(self):
        run, _lines = self.drifted_run()
        lines = run.line_ids.with_user(self.manager)
        action = lines.action_open_explain()
        wizard = (
            self.env["mfg.integration.reconciliation.explain.wizard"]
            .with_user(self.manager)
            .with_context(**action["context"])
            .create({"reason": "MES test orders, cleaned up on Monday"})
        )
        wizard.action_confirm()
        self.assertEqual(set(lines.mapped("state")), {"explained"})
        self.assertEqual(set(lines.mapped("resolution_note")), {"MES test orders, cleaned up on Monday"})
        self.assertEqual(lines.resolved_by_id, self.manager)
        with self.assertRaisesRegex(UserError, "Already resolved"):
            lines.action_accept_system_value()

    def test_only_managers_resolve_and_nobody_writes_history(self):
        _run, lines = self.drifted_run()
        line = lines["quantity"]
        with self.assertRaises(AccessError):
            line.with_user(self.viewer).action_accept_system_value()
        with self.assertRaises(AccessError):
            line.write({"state": "explained", "resolution_note": "forged"})
        with self.assertRaises(AccessError):
            line.run_id.with_user(self.manager).write({"state": "receiving"})
        self.assertEqual(line.state, "open")

    def test_publish_snapshot_on_demand(self):
        endpoint = self.subscribe(self.mes, WIP_OUT)
        self.mes.with_user(self.manager).action_mfg_publish_snapshots()
        (event,) = self.sent(endpoint)
        self.assertFalse(event["partial"])
        self.assertEqual(
            [(order["production_order"], order["status"], order["produced_quantity"]) for order in event["orders"]],
            sorted([(self.order1.name, "in_progress", 4), (self.order2.name, "released", 0)]),
        )
        self.assertTrue(self.mes.mfg_snapshot_published_at)
