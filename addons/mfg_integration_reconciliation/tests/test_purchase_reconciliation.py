"""A supplier portal's open purchase lines (open quantity, promised date) compared with Odoo's at the
snapshot's as_of, and their differences resolved."""

from datetime import date, timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import OPEN_LINES, OPEN_LINES_OUT, ReconciliationCase

D1, D2 = date(2030, 2, 1), date(2030, 3, 1)


@tagged("post_install", "-at_install")
class TestPurchaseReconciliation(ReconciliationCase):
    def setUp(self):
        super().setUp()
        self.portal, self.portal_key, self.vendor = self.make_supplier(self.env.company, self.plant, "SUP")
        self.order = self.make_purchase(self.vendor, self.plant, [(self.bolt, 100, D1), (self.pump, 10, D2)])
        self.bolt_line, self.pump_line = self.order.order_line

    def make_supplier(self, company, plant, prefix):
        """A supplier portal with its technical user made by the system form's button, and its vendor."""
        Types = self.env["mfg.integration.event.type"]
        system = self.make_system(
            code=f"{prefix}-{self.tag}",
            kind="supplier",
            company_id=company.id,
            warehouse_id=plant.id,
            inbound_event_type_ids=[(6, 0, Types.search([("code", "=", OPEN_LINES)]).ids)],
        )
        user = system.action_create_technical_user()
        vendor = self.env["res.partner"].create(
            {"name": f"Vendor {prefix} {self.tag}", "mfg_system_id": system.id, "company_id": company.id}
        )
        return system, self.make_api_key(user, system.code), vendor

    def make_purchase(self, vendor, plant, lines):
        """A confirmed order, approved yesterday: its lines are open at every snapshot's as_of here."""
        order = (
            self.env["purchase.order"]
            .with_company(plant.company_id)
            .create(
                {
                    "partner_id": vendor.id,
                    "company_id": plant.company_id.id,
                    "picking_type_id": plant.in_type_id.id,
                    "order_line": [
                        Command.create({"product_id": product.id, "product_qty": quantity, "date_planned": planned})
                        for product, quantity, planned in lines
                    ],
                }
            )
        )
        order.button_confirm()
        self.backdate(order, "date_approve")
        return order

    def receive(self, line, quantity):
        """Receive ``quantity`` of ``line`` now (after the snapshots' as_of), the rest in a backorder."""
        picking = line.order_id.picking_ids.filtered(lambda picking: picking.state not in ("done", "cancel"))
        for move in picking.move_ids:
            move.quantity = quantity if move.purchase_line_id == line else 0
            move.picked = move.purchase_line_id == line
        picking._action_done()
        self.assertEqual(line.qty_received, quantity)

    def item(self, line, open_quantity, promised=None):
        item = {
            "purchase_order": line.order_id.name,
            "line": line.id,
            "material": line.product_id.default_code,
            "open_quantity": open_quantity,
        }
        if promised:
            item["promised_date"] = promised.isoformat()
        return item

    def open_lines_snapshot(self, lines, as_of, key=None, **kwargs):
        return self.snapshot(OPEN_LINES, "lines", lines, key or self.portal_key, as_of, **kwargs)

    def test_technical_user_gets_the_declared_groups(self):
        event_type = self.env.ref("mfg_integration_reconciliation.event_type_open_lines_reported")
        self.assertEqual(event_type.required_group_ids, self.env.ref("purchase.group_purchase_user"))
        (user,) = self.portal.user_ids
        self.assertTrue(user.has_group("purchase.group_purchase_user"))
        self.assertFalse(user.email)
        self.assertFalse(self.portal.technical_user_missing)

    def test_matching_paged_snapshot_with_receipts_after_as_of(self):
        self.receive(self.bolt_line, 30)
        self.portal.mfg_promised_date_tolerance_days = 2
        as_of = self.hours_ago(2)
        first = self.assertProcessed(
            self.open_lines_snapshot(
                [self.item(self.pump_line, 10, D2 + timedelta(days=2))], as_of, snapshot_id="PO-1", page=2, pages=2
            )
        )
        self.assertEqual((first["state"], first["pages_received"]), ("receiving", 1))
        # At as_of the 30 bolts received since were still open: no difference.
        last = self.assertProcessed(
            self.open_lines_snapshot([self.item(self.bolt_line, 100, D1)], as_of, snapshot_id="PO-1", page=1, pages=2)
        )
        self.assertEqual((last["state"], last["differences"]), ("compared", 0))
        self.assertEqual(self.run_of(last).scope, "purchase")

        # The same view taken now: the receipt is before it, 70 are open.
        run = self.run_of(
            self.assertProcessed(
                self.open_lines_snapshot(
                    [self.item(self.bolt_line, 100, D1), self.item(self.pump_line, 10, D2)], self.hours_ago(0)
                )
            )
        )
        (line,) = run.line_ids
        self.assertEqual(
            (line.kind, line.measure, line.purchase_line_id, line.odoo_quantity, line.system_quantity),
            ("quantity", "open_quantity", self.bolt_line, 70, 100),
        )

    def test_drift_missing_lines_and_accepting_the_promises(self):
        second_bolts = self.order.order_line.create(
            {"order_id": self.order.id, "product_id": self.bolt.id, "product_qty": 50, "date_planned": D1}
        )
        other_order = self.make_purchase(self.vendor, self.plant, [(self.steel, 5, D2)])
        items = [
            self.item(self.bolt_line, 100, D1 + timedelta(days=5)),
            self.item(second_bolts, 40, D1),
            {"purchase_order": "P-UNKNOWN", "line": 999999999, "material": "ACME-1", "open_quantity": 3},
        ]
        result = self.assertProcessed(self.open_lines_snapshot(items, self.hours_ago(1)))
        run = self.run_of(result)
        self.assertEqual(
            self.lines_as_tuples(run),
            sorted(
                [
                    (
                        "date",
                        f"{self.order.name} / {self.bolt_line.id} / {self.bolt.default_code}",
                        "promised_date",
                        "2030-02-01",
                        "2030-02-06",
                    ),
                    ("missing_in_odoo", "P-UNKNOWN / 999999999 / ACME-1", "open_quantity", "", "3.0"),
                    (
                        "missing_in_system",
                        f"{other_order.name} / {other_order.order_line.id} / {self.steel.default_code}",
                        "open_quantity",
                        "5.0",
                        "",
                    ),
                    (
                        "missing_in_system",
                        f"{self.order.name} / {self.pump_line.id} / {self.pump.default_code}",
                        "open_quantity",
                        "10.0",
                        "",
                    ),
                    (
                        "quantity",
                        f"{self.order.name} / {second_bolts.id} / {self.bolt.default_code}",
                        "open_quantity",
                        "50.0",
                        "40.0",
                    ),
                ]
            ),
        )
        missing = run.line_ids.filtered(lambda line: line.kind == "missing_in_odoo")
        with self.assertRaisesRegex(UserError, "re-send Odoo's state or explain"):
            missing.with_user(self.manager).action_accept_system_value()

        # Both promises at once, through the acknowledgement handler: each lands on its own line.
        accepted = run.line_ids.filtered(lambda line: line.kind in ("date", "quantity"))
        accepted.with_user(self.manager).action_accept_system_value()
        self.assertEqual(
            (
                self.bolt_line.date_planned.date(),
                self.bolt_line.mfg_promised_date.date(),
                self.bolt_line.mfg_promised_qty,
            ),
            (date(2030, 2, 6), date(2030, 2, 6), 0),
        )
        self.assertEqual(
            (second_bolts.mfg_promised_qty, second_bolts.product_qty, second_bolts.date_planned.date()), (40, 50, D1)
        )
        self.assertEqual(self.order.mfg_ack_state, "changed")
        self.assertTrue(self.order.mfg_ack_qty_mismatch)
        self.assertTrue(any(run.name in (message.body or "") for message in self.order.message_ids))
        self.assertEqual(set(accepted.mapped("state")), {"accepted"})
        self.assertEqual(accepted.resolved_by_id, self.manager)
        self.assertIn("quantity 40.0", accepted.filtered(lambda line: line.kind == "quantity").resolution_note)
        # The same snapshot again now matches on those two lines.
        again = self.run_of(self.assertProcessed(self.open_lines_snapshot(items, self.hours_ago(1))))
        self.assertEqual(
            sorted(again.line_ids.mapped("kind")), ["missing_in_odoo", "missing_in_system", "missing_in_system"]
        )

    def test_resend_and_explain(self):
        endpoint = self.subscribe(self.portal, OPEN_LINES_OUT)
        self.bolt_line.mfg_promised_date = "2030-02-01 12:00:00"
        run = self.run_of(
            self.assertProcessed(
                self.open_lines_snapshot(
                    [self.item(self.bolt_line, 90), self.item(self.pump_line, 10, D2 + timedelta(days=1))],
                    self.hours_ago(1),
                )
            )
        )
        drift = run.line_ids.filtered(lambda line: line.kind == "quantity")
        late = run.line_ids.filtered(lambda line: line.kind == "date")
        self.assertEqual((drift.purchase_line_id, late.purchase_line_id), (self.bolt_line, self.pump_line))

        drift.with_user(self.manager).action_resend_odoo_state()
        (event,) = self.sent(endpoint)
        self.assertTrue(event["partial"])
        self.assertEqual(
            event["lines"],
            [
                {
                    "purchase_order": self.order.name,
                    "line": self.bolt_line.id,
                    "material": self.bolt.default_code,
                    "ordered_quantity": 100.0,
                    "promised_quantity": None,
                    "open_quantity": 100.0,
                    "unit": self.bolt.uom_id.name,
                    "expected_date": "2030-02-01",
                    "promised_date": "2030-02-01",
                }
            ],
        )
        self.assertEqual(drift.state, "resent")

        action = late.with_user(self.manager).action_open_explain()
        wizard = (
            self.env["mfg.integration.reconciliation.explain.wizard"]
            .with_user(self.manager)
            .with_context(**action["context"])
            .create({"reason": "Carrier delay agreed by phone"})
        )
        wizard.action_confirm()
        self.assertEqual(
            (late.state, late.resolution_note, late.resolved_by_id),
            ("explained", "Carrier delay agreed by phone", self.manager),
        )

    def test_companies_are_isolated(self):
        company2 = self.env["res.company"].create({"name": f"Other purchase company {self.tag}"})
        warehouse2 = self.env["stock.warehouse"].search([("company_id", "=", company2.id)], limit=1)
        portal2, key2, vendor2 = self.make_supplier(company2, warehouse2, "SUP2")
        order2 = self.make_purchase(vendor2, warehouse2, [(self.bolt, 7, D1)])

        # Company 2's portal names company 1's line: no match, and nothing of company 1 shows.
        run2 = self.run_of(
            self.assertProcessed(
                self.open_lines_snapshot([self.item(self.bolt_line, 100, D1)], self.hours_ago(1), key2)
            )
        )
        self.assertEqual((run2.system_id, run2.company_id), (portal2, company2))
        self.assertEqual(
            sorted(
                (line.kind, line.purchase_line_id, line.system_quantity, line.odoo_quantity) for line in run2.line_ids
            ),
            [
                ("missing_in_odoo", self.env["purchase.order.line"], 100, 0),
                ("missing_in_system", order2.order_line, 0, 7),
            ],
        )
        run1 = self.run_of(self.assertProcessed(self.open_lines_snapshot([], self.hours_ago(1))))
        self.assertEqual(run1.line_ids.purchase_line_id, self.order.order_line)

        # Company 1's users neither find nor read company 2's differences.
        Line = self.env["mfg.integration.reconciliation.line"].with_user(self.viewer)
        self.assertEqual(Line.search([("run_id", "in", (run1 | run2).ids)]).run_id, run1)
        with self.assertRaises(AccessError):
            run2.line_ids[0].with_user(self.viewer).read(["state"])
        # The technical user of a portal reads no reconciliation.
        with self.assertRaises(AccessError):
            run1.with_user(self.portal.user_ids).read(["state"])
