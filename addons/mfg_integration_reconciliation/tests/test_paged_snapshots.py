"""Large snapshots arrive in pages and are compared only once complete."""

from odoo.tests import tagged

from .common import ReconciliationCase


@tagged("post_install", "-at_install")
class TestPagedSnapshots(ReconciliationCase):
    def items(self):
        return [
            [{"location": self.shelf.barcode, "material": self.bolt.default_code, "quantity": 20}],
            [{"location": self.stock.complete_name, "material": self.bolt.default_code, "quantity": 100}],
            [
                {
                    "location": self.shelf.barcode,
                    "material": self.steel.default_code,
                    "lot": self.lot1.name,
                    "quantity": 29,
                }
            ],
        ]

    def test_compared_when_the_last_page_arrives_in_any_order(self):
        as_of = self.hours_ago(1)
        pages = self.items()
        first = self.assertProcessed(self.stock_snapshot(pages[2], as_of, snapshot_id="BIG-1", page=3, pages=3))
        run = self.run_of(first)
        self.assertEqual((first["state"], first["pages_received"], first["pages"]), ("receiving", 1, 3))
        second = self.assertProcessed(self.stock_snapshot(pages[0], as_of, snapshot_id="BIG-1", page=1, pages=3))
        self.assertEqual((second["state"], second["pages_received"], self.run_of(second)), ("receiving", 2, run))
        self.assertFalse(run.line_ids)
        last = self.assertProcessed(self.stock_snapshot(pages[1], as_of, snapshot_id="BIG-1", page=2, pages=3))
        self.assertEqual((last["state"], last["differences"]), ("compared", 1))
        self.assertEqual(run.page_ids.mapped("page"), [1, 2, 3])
        (line,) = run.line_ids
        self.assertEqual(
            (line.kind, line.lot_name, line.odoo_quantity, line.system_quantity), ("quantity", self.lot1.name, 30, 29)
        )

    def test_inconsistent_or_repeated_pages_are_refused(self):
        as_of = self.hours_ago(1)
        pages = self.items()
        self.assertProcessed(self.stock_snapshot(pages[0], as_of, snapshot_id="BIG-2", page=1, pages=2))
        self.assertBusinessError(
            self.stock_snapshot(pages[0], as_of, snapshot_id="BIG-2", page=1, pages=2), "/data/page", "already received"
        )
        self.assertBusinessError(
            self.stock_snapshot(pages[1], as_of, snapshot_id="BIG-2", page=2, pages=3), "/data/pages", "2 pages"
        )
        self.assertBusinessError(
            self.stock_snapshot(pages[1], as_of, snapshot_id="BIG-3", page=4, pages=3), "/data/page", "does not exist"
        )
        # The schema bounds every quantity.
        response = self.stock_snapshot(
            [{"location": "X", "material": "Y", "quantity": 1e12}], as_of, snapshot_id="BIG-4"
        )
        self.assertEqual(response.status_code, 422, response.text)
        self.assertEqual(response.json()["errors"][0]["path"], "/data/items/0/quantity")
        run = self.env["mfg.integration.reconciliation.run"].search([("snapshot_ref", "=", "BIG-2")])
        self.assertEqual((run.state, run.pages_received), ("receiving", 1))
