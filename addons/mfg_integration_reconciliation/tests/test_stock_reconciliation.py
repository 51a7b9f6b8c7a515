"""A WMS's on-hand stock compared with Odoo's at the snapshot's as_of, and its differences resolved."""

from odoo.tests import tagged

from .common import STOCK_OUT, ReconciliationCase


@tagged("post_install", "-at_install")
class TestStockReconciliation(ReconciliationCase):
    def setUp(self):
        super().setUp()
        # After the snapshot's as_of (2 hours ago): 5 bolts moved from the shelf to stock.
        self.move(self.bolt, 5, self.shelf, self.stock)
        self.shelf_code = self.shelf.barcode
        self.stock_code = self.stock.barcode

    def wms_items(self, stock_bolts=100, steel_lot=None):
        return [
            {"location": self.shelf_code, "material": self.bolt.default_code, "quantity": 20},
            {"location": self.stock_code, "material": self.bolt.default_code, "quantity": stock_bolts},
            {
                "location": self.shelf_code,
                "material": self.steel.default_code,
                "lot": steel_lot or self.lot1.name,
                "quantity": 30,
            },
        ]

    def test_matching_snapshot_with_movements_after_as_of(self):
        self.assertEqual((self.on_hand(self.bolt, self.shelf), self.on_hand(self.bolt, self.stock)), (15, 105))
        result = self.assertProcessed(self.stock_snapshot(self.wms_items(), self.hours_ago(2)))
        self.assertEqual((result["state"], result["differences"]), ("compared", 0))

    def test_movements_before_as_of_count(self):
        # The same WMS view, taken now: the move is before it, so the shelf's 20 is 5 too many.
        result = self.assertProcessed(self.stock_snapshot(self.wms_items(), self.hours_ago(0)))
        run = self.run_of(result)
        self.assertEqual(
            self.lines_as_tuples(run),
            [
                ("quantity", f"{self.stock.complete_name} / {self.bolt.default_code}", "on_hand", "105.0", "100.0"),
                ("quantity", f"{self.shelf.complete_name} / {self.bolt.default_code}", "on_hand", "15.0", "20.0"),
            ],
        )

    def test_lot_mismatch_and_quantity_drift(self):
        result = self.assertProcessed(
            self.stock_snapshot(self.wms_items(stock_bolts=97, steel_lot="L2-WMS"), self.hours_ago(2))
        )
        run = self.run_of(result)
        self.assertEqual(result["differences"], 2)
        lot_line = run.line_ids.filtered(lambda line: line.kind == "lot")
        self.assertEqual(
            (lot_line.location_id, lot_line.product_id, lot_line.lot_name, lot_line.system_lot),
            (self.shelf, self.steel, self.lot1.name, "L2-WMS"),
        )
        self.assertEqual((lot_line.odoo_quantity, lot_line.system_quantity), (30, 30))
        drift = run.line_ids.filtered(lambda line: line.kind == "quantity")
        self.assertEqual((drift.location_id, drift.odoo_quantity, drift.system_quantity), (self.stock, 100, 97))

        # Accept both at once: adjustments through the count handler, movements since as_of kept.
        run.line_ids.with_user(self.manager).action_accept_system_value()
        self.assertEqual(self.on_hand(self.bolt, self.stock), 102)
        self.assertEqual(self.on_hand(self.bolt, self.shelf), 15)
        lot2 = self.env["stock.lot"].search([("product_id", "=", self.steel.id), ("name", "=", "L2-WMS")])
        self.assertEqual(
            (self.on_hand(self.steel, self.shelf, self.lot1), self.on_hand(self.steel, self.shelf, lot2)), (0, 30)
        )
        self.assertEqual(set(run.line_ids.mapped("state")), {"accepted"})
        self.assertEqual(run.line_ids.resolved_by_id, self.manager)
        self.assertIn("Inventory adjustment", lot_line.resolution_note)
        # Audited like any adjustment: done moves to the inventory loss location.
        adjustment = self.env["stock.move.line"].search(
            [("product_id", "=", self.bolt.id), ("location_id", "=", self.stock.id), ("is_inventory", "=", True)]
        )
        self.assertEqual(adjustment.quantity, 3)

    def test_missing_items_and_unknown_codes(self):
        items = [
            {"location": self.shelf_code, "material": self.bolt.default_code, "quantity": 20},
            {"location": self.stock_code, "material": self.bolt.default_code, "quantity": 100},
            {"location": self.stock_code, "material": self.pump.default_code, "quantity": 3},
            {"location": "NOWHERE-1", "material": self.bolt.default_code, "quantity": 1},
        ]
        run = self.run_of(self.assertProcessed(self.stock_snapshot(items, self.hours_ago(2))))
        self.assertEqual(
            sorted(
                (line.kind, line.product_id.default_code or "", line.odoo_value or "", line.system_value or "")
                for line in run.line_ids
            ),
            [
                ("missing_in_odoo", "", "", "1.0"),
                ("missing_in_odoo", self.pump.default_code, "", "3.0"),
                ("missing_in_system", self.steel.default_code, "30.0", ""),
            ],
        )
        unknown = run.line_ids.filtered(lambda line: not line.product_id)
        self.assertIn("NOWHERE-1", unknown.note)

    def test_resend_sends_the_current_stock_of_the_lines(self):
        endpoint = self.subscribe(self.wms, STOCK_OUT)
        run = self.run_of(self.assertProcessed(self.stock_snapshot(self.wms_items(stock_bolts=97), self.hours_ago(2))))
        run.line_ids.with_user(self.manager).action_resend_odoo_state()
        (event,) = self.sent(endpoint)
        self.assertTrue(event["partial"])
        self.assertEqual(
            event["items"],
            [
                {
                    "location": self.stock.barcode,
                    "material": self.bolt.default_code,
                    "lot": None,
                    "quantity": 105.0,
                    "uom": self.bolt.uom_id.name,
                }
            ],
        )
        self.assertEqual(run.line_ids.state, "resent")
