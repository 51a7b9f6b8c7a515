"""Multi-company isolation: a system's snapshot is compared with its own company only, and seen only there."""

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import STOCK, ReconciliationCase


@tagged("post_install", "-at_install")
class TestReconciliationAccess(ReconciliationCase):
    def test_companies_are_isolated(self):
        company2 = self.env["res.company"].create({"name": f"Other plant company {self.tag}"})
        warehouse2 = self.env["stock.warehouse"].search([("company_id", "=", company2.id)], limit=1)
        self.env["stock.quant"].with_company(company2)._update_available_quantity(self.bolt, warehouse2.lot_stock_id, 7)
        wms2 = self.make_system(
            code=f"WMS2-{self.tag}",
            company_id=company2.id,
            inbound_event_type_ids=[(6, 0, self.env["mfg.integration.event.type"].search([("code", "=", STOCK)]).ids)],
        )
        bot2 = new_test_user(
            self.env,
            login=f"wms2-{self.tag.lower()}",
            groups="base.group_user,stock.group_stock_user",
            company_id=company2.id,
            company_ids=[(6, 0, company2.ids)],
        )
        bot2.mfg_system_id = wms2
        key2 = self.make_api_key(bot2, "wms2")

        # Company 2's WMS sees nothing: company 1's stock (same material) is no difference of its own.
        result = self.assertProcessed(self.snapshot(STOCK, "items", [], key2, self.hours_ago(1)))
        run2 = self.run_of(result)
        self.assertEqual(run2.company_id, company2)
        (line2,) = run2.line_ids
        self.assertEqual(
            (line2.kind, line2.location_id, line2.product_id, line2.odoo_quantity),
            ("missing_in_system", warehouse2.lot_stock_id, self.bolt, 7),
        )
        run1 = self.run_of(self.assertProcessed(self.stock_snapshot([], self.hours_ago(1))))
        self.assertEqual(run1.company_id, self.env.company)
        self.assertEqual(run1.line_ids.location_id.company_id, self.env.company)

        # Company 1's users neither find nor read company 2's runs and differences.
        Line = self.env["mfg.integration.reconciliation.line"].with_user(self.viewer)
        self.assertEqual(Line.search([("run_id", "in", (run1 | run2).ids)]).run_id, run1)
        with self.assertRaises(AccessError):
            line2.with_user(self.viewer).read(["state"])
        with self.assertRaises(AccessError):
            run2.with_user(self.manager).read(["name"])
        self.assertEqual(
            self.env["mfg.integration.reconciliation.page"].with_user(self.viewer).search([("run_id", "=", run2.id)]),
            self.env["mfg.integration.reconciliation.page"],
        )

    def test_manager_cannot_move_a_tolerance_into_another_company(self):
        elsewhere = self.env["res.company"].create({"name": f"Elsewhere {self.tag}"})
        Tolerance = self.env["mfg.integration.reconciliation.tolerance"].with_user(self.manager)
        tolerance = Tolerance.create({"categ_id": self.bolt.categ_id.id, "percent": 5})
        with self.assertRaises(AccessError):
            tolerance.write({"company_id": elsewhere.id})
        self.assertEqual(tolerance.company_id, self.env.company)

    def test_technical_user_has_no_access_to_reconciliations(self):
        bot = self.env["res.users"].search([("mfg_system_id", "=", self.wms.id)])
        run = self.run_of(self.assertProcessed(self.stock_snapshot([], self.hours_ago(1))))
        with self.assertRaises(AccessError):
            run.with_user(bot).read(["state"])
        with self.assertRaises(AccessError):
            self.env["mfg.integration.reconciliation.run"].with_user(bot).create(
                {"system_id": self.wms.id, "scope": "inventory", "snapshot_ref": "forged", "as_of": self.hours_ago(1)}
            )
