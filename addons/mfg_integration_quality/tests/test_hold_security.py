"""Quality holds as the attacker sees them: an Inventory user forging or erasing hold history,
releasing without the rights, another company's user looking."""

import json

from odoo.exceptions import AccessError
from odoo.tests import Form, TransactionCase, new_test_user, tagged

PLACED = "mfg.quality.lot.hold_placed.v1"
RELEASED = "mfg.quality.lot.hold_released.v1"


@tagged("post_install", "-at_install")
class TestHoldSecurity(TransactionCase):
    def setUp(self):
        super().setUp()
        self.company_a = self.env.company
        self.company_b = self.env["res.company"].create({"name": "Plant B"})
        outbound = self.env["mfg.integration.event.type"].search([("code", "in", (PLACED, RELEASED))])
        self.mes = self.env["mfg.integration.system"].create({"name": "MES", "code": "MES-HOLD", "kind": "mes"})
        self.env["mfg.integration.endpoint"].create(
            {
                "name": "MES",
                "system_id": self.mes.id,
                "url": "https://mes.example.com/hook",
                "subscription_ids": [(0, 0, {"event_type_id": t.id}) for t in outbound],
            }
        )
        resin = self.env["product.product"].create(
            {"name": "Resin", "default_code": "RES-H", "is_storable": True, "tracking": "lot"}
        )
        self.lot = self.env["stock.lot"].create(
            {"name": "R-9", "product_id": resin.id, "company_id": self.company_a.id}
        )
        self.hold = self.lot._mfg_place_hold("Supplier recall 77")
        self.inventory_a = self.user("inv-a", "stock.group_stock_user", self.company_a)
        self.inventory_b = self.user("inv-b", "stock.group_stock_user", self.company_b)
        self.quality_manager_a = self.user(
            "qm-a", "stock.group_stock_user,quality_control_oca.group_quality_control_manager", self.company_a
        )

    def user(self, login, groups, company):
        return new_test_user(
            self.env,
            login=login,
            groups=f"base.group_user,{groups}",
            company_id=company.id,
            company_ids=[(6, 0, company.ids)],
        )

    def sent(self):
        messages = self.env["mfg.integration.message"].search(
            [("system_id", "=", self.mes.id), ("direction", "=", "outbound")], order="id"
        )
        return [(m.event_type_id.code, json.loads(m.payload)) for m in messages]

    def release_with_wizard(self, user, reason="Retest passed"):
        lot = self.lot.with_user(user)
        action = lot.action_mfg_hold_wizard()
        wizard = Form(self.env[action["res_model"]].with_user(user).with_context(**action["context"]))
        wizard.reason = reason
        wizard.save().action_apply()

    def assertStillHeld(self):
        self.lot.invalidate_recordset()
        self.hold.invalidate_recordset()
        self.assertTrue(self.lot.mfg_on_hold)
        self.assertEqual(self.hold.state, "active")
        self.assertEqual([t for t, _d in self.sent()], [PLACED])

    def test_inventory_user_cannot_forge_or_erase_hold_history(self):
        hold = self.hold.with_user(self.inventory_a)
        lot = self.lot.with_user(self.inventory_a)
        attacks = [
            lambda: hold.write({"state": "released"}),
            lambda: hold.write({"reason": "nothing", "placed_by_id": self.inventory_b.id}),
            lambda: hold.unlink(),
            lambda: lot.write({"mfg_on_hold": False}),
            lambda: lot.write({"mfg_hold_ids": [(1, self.hold.id, {"state": "released"})]}),
            lambda: lot.write({"mfg_hold_ids": [(2, self.hold.id)]}),
            lambda: (
                self.env["mfg.quality.lot.hold"]
                .with_user(self.inventory_a)
                .create({"lot_id": self.lot.id, "reason": "forged", "state": "released"})
            ),
        ]
        for attack in attacks:
            with self.assertRaises(AccessError):
                attack()
        self.assertStillHeld()
        self.assertEqual(len(self.lot.mfg_hold_ids), 1)

    def test_releasing_needs_a_quality_manager(self):
        with self.assertRaises(AccessError):
            self.release_with_wizard(self.inventory_a)
        self.assertStillHeld()

        self.release_with_wizard(self.quality_manager_a)
        self.assertFalse(self.lot.mfg_on_hold)
        self.assertEqual(
            (self.hold.state, self.hold.released_by_id, self.hold.release_reason),
            ("released", self.quality_manager_a, "Retest passed"),
        )
        self.assertTrue(self.hold.released_at)
        [_placed, (event_type, data)] = self.sent()
        self.assertEqual((event_type, data["lot"], data["reason"]), (RELEASED, "R-9", "Retest passed"))
        self.assertTrue(self.lot.message_ids.filtered(lambda m: "Retest passed" in m.body))

    def test_inventory_user_places_a_hold_only_through_the_wizard(self):
        self.release_with_wizard(self.quality_manager_a)
        lot = self.lot.with_user(self.inventory_a)
        action = lot.action_mfg_hold_wizard()
        wizard = Form(self.env[action["res_model"]].with_user(self.inventory_a).with_context(**action["context"]))
        wizard.reason = "Customer complaint 4711"
        wizard.save().action_apply()
        new_hold = self.lot.mfg_hold_ids.filtered(lambda h: h.state == "active")
        self.assertEqual((new_hold.placed_by_id, new_hold.reason), (self.inventory_a, "Customer complaint 4711"))
        self.assertEqual([t for t, _d in self.sent()], [PLACED, RELEASED, PLACED])

    def test_other_company_user_sees_nothing_of_the_holds(self):
        Hold = self.env["mfg.quality.lot.hold"].with_user(self.inventory_b)
        self.assertFalse(Hold.search([]))
        with self.assertRaises(AccessError):
            self.hold.with_user(self.inventory_b).read(["reason", "state"])
        with self.assertRaises(AccessError):
            self.release_with_wizard(self.inventory_b)
        self.assertStillHeld()
