"""The quality loop on real Odoo: results and hold requests through the REST API,
OCA inspections, lot holds blocking deliveries and consumption, events in the outbox of each subscribed system."""

import json
import uuid
from datetime import datetime

from odoo.exceptions import UserError
from odoo.tests import Form, HttpCase, new_test_user, tagged

from odoo.addons.mfg_integration.tests.common import InboundApiMixin

API = "/api/mfg/v1/events"
RESULT = "mfg.quality.result_reported.v1"
HOLD = "mfg.quality.hold_requested.v1"
RELEASE = "mfg.quality.hold_released.v1"
# The QMS's technical user's rights, as the README lists them.
TECHNICAL_USER_GROUPS = "stock.group_stock_user,quality_control_oca.group_quality_control_user"
OUTBOUND = ("mfg.quality.inspection_completed.v1", "mfg.quality.lot.hold_placed.v1", "mfg.quality.lot.hold_released.v1")


@tagged("post_install", "-at_install")
class TestQualityLoop(InboundApiMixin, HttpCase):
    event_source = "urn:qms:lab"

    def setUp(self):
        super().setUp()
        EventType = self.env["mfg.integration.event.type"]
        inbound = EventType.search([("code", "in", (RESULT, HOLD, RELEASE))])
        outbound = EventType.search([("code", "in", OUTBOUND)])
        self.qms = self.env["mfg.integration.system"].create(
            {"name": "QMS", "code": "QMS", "kind": "qms", "inbound_event_type_ids": [(6, 0, inbound.ids)]}
        )
        self.mes = self.env["mfg.integration.system"].create({"name": "MES", "code": "MES", "kind": "mes"})
        for system in (self.qms, self.mes):
            self.env["mfg.integration.endpoint"].create(
                {
                    "name": system.code,
                    "system_id": system.id,
                    "url": f"https://{system.code.lower()}.example.com/hook",
                    "subscription_ids": [(0, 0, {"event_type_id": t.id}) for t in outbound],
                }
            )
        self.tech = self.make_technical_user(self.qms)
        self.tech_login = self.tech.login
        self.key = self.make_api_key(self.tech, "qms")
        self.env.company.mfg_hold_on_failed_inspection = True

        self.warehouse = self.env["stock.warehouse"].search([("company_id", "=", self.env.company.id)], limit=1)
        self.resin = self.env["product.product"].create(
            {"name": "Resin", "default_code": "RES-100", "is_storable": True, "tracking": "lot"}
        )
        # The QMS has its own code for the material.
        self.env["mfg.integration.code.mapping"].create(
            {
                "system_id": self.qms.id,
                "kind": "product",
                "external_code": "Q-RESIN",
                "target_ref": f"product.product,{self.resin.id}",
            }
        )
        self.lot = self.env["stock.lot"].create({"name": "R-1", "product_id": self.resin.id})
        self.env["stock.quant"]._update_available_quantity(self.resin, self.warehouse.lot_stock_id, 10, lot_id=self.lot)
        unit = self.env.ref("uom.product_uom_unit")
        self.test = self.env["qc.test"].create(
            {
                "name": "Viscosity check",
                "mfg_code": "VISC",
                "test_lines": [
                    (
                        0,
                        0,
                        {
                            "name": "Viscosity",
                            "mfg_code": "VISC_MPAS",
                            "type": "quantitative",
                            "min_value": 100,
                            "max_value": 200,
                            "uom_id": unit.id,
                        },
                    ),
                    (
                        0,
                        0,
                        {
                            "name": "Appearance",
                            "type": "qualitative",
                            "ql_values": [(0, 0, {"name": "clear", "ok": True}), (0, 0, {"name": "cloudy"})],
                        },
                    ),
                ],
            }
        )

    # -- helpers -------------------------------------------------------------

    def make_technical_user(self, system):
        """As the README creates it: the system form's Technical User button (no e-mail, the declared rights)."""
        return system.action_create_technical_user()

    def system_notes(self, record, system=None):
        """The chatter notes on ``record`` written in the system's name (by OdooBot)."""
        name = (system or self.qms).name
        return record.message_ids.filtered(
            lambda message: message.author_id == self.env.ref("base.partner_root") and name in message.body
        )

    def sent(self, system):
        """The outbound events queued for ``system`` (the outbox), oldest first, as (type, data)."""
        messages = self.env["mfg.integration.message"].search(
            [("system_id", "=", system.id), ("direction", "=", "outbound")], order="id"
        )
        return [(message.event_type_id.code, json.loads(message.payload)) for message in messages]

    def failed_result(self, **subject):
        return {
            "subject": subject or {"lot": "R-1", "material": "Q-RESIN"},
            "test": "VISC",
            "results": [
                {"characteristic": "VISC_MPAS", "value": 250, "ok": False},
                {"characteristic": "appearance", "value": "cloudy"},
            ],
            "outcome": "fail",
            "inspector": "Quinn Lab",
            "occurred_at": "2030-01-05T09:30:00Z",
        }

    def delivery_of_resin(self, qty=5):
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": self.warehouse.out_type_id.id,
                "location_id": self.warehouse.lot_stock_id.id,
                "location_dest_id": self.env.ref("stock.stock_location_customers").id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Resin",
                            "product_id": self.resin.id,
                            "product_uom_qty": qty,
                            "location_id": self.warehouse.lot_stock_id.id,
                            "location_dest_id": self.env.ref("stock.stock_location_customers").id,
                        },
                    )
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        self.assertEqual(picking.move_line_ids.lot_id, self.lot)
        return picking

    def production_using_resin(self):
        panel = self.env["product.product"].create({"name": "Panel", "is_storable": True})
        bom = self.env["mrp.bom"].create(
            {
                "product_tmpl_id": panel.product_tmpl_id.id,
                "product_qty": 1,
                "bom_line_ids": [(0, 0, {"product_id": self.resin.id, "product_qty": 2})],
            }
        )
        production = self.env["mrp.production"].create({"product_id": panel.id, "bom_id": bom.id, "product_qty": 1})
        production.action_confirm()
        production.action_assign()
        form = Form(production)
        form.qty_producing = 1
        production = form.save()
        production.move_raw_ids.picked = True
        self.assertEqual(production.move_raw_ids.move_line_ids.lot_id, self.lot)
        return production

    # -- tests ---------------------------------------------------------------

    def test_failed_result_places_a_hold_that_blocks_delivery_until_released(self):
        self.assertFalse(self.tech.email)
        result = self.assertProcessed(self.post_event(RESULT, self.failed_result()))

        inspection = self.env["qc.inspection"].browse(result["records"][0]["id"])
        hold = self.lot.mfg_hold_ids
        # The answer names the hold the result placed, and both verdicts.
        self.assertEqual(result["inspection"], {"name": inspection.name, "outcome": "fail", "odoo_outcome": "fail"})
        self.assertEqual(
            result["hold"],
            {
                "id": hold.id,
                "lot": "R-1",
                "reason": f"Inspection {inspection.name} (Viscosity check) failed",
                "placed_by_this_result": True,
                "placed_at": result["hold"]["placed_at"],
            },
        )
        self.assertEqual(result["records"][1], {"model": "mfg.quality.lot.hold", "id": hold.id, "name": hold.reason})
        self.assertTrue(self.system_notes(self.lot).filtered(lambda message: "Quality hold placed" in message.body))
        self.assertFalse(inspection.activity_ids, "the verdicts agree")
        self.assertEqual(inspection.object_id, self.lot)
        self.assertEqual(inspection.lot_id, self.lot)
        self.assertEqual(inspection.state, "failed")
        self.assertEqual(inspection.date_done, datetime(2030, 1, 5, 9, 30))
        self.assertEqual(inspection.mfg_system_id, self.qms)
        self.assertEqual(inspection.mfg_inspector, "Quinn Lab")
        viscosity, appearance = inspection.inspection_lines.sorted("id")
        self.assertEqual(viscosity.quantitative_value, 250)
        self.assertFalse(viscosity.success)
        self.assertEqual(appearance.qualitative_value.name, "cloudy")
        # The setting puts the lot on hold.
        self.assertTrue(self.lot.mfg_on_hold)
        self.assertIn(inspection.name, self.lot.mfg_hold_reason)
        self.assertEqual(self.lot.mfg_hold_ids.origin, "inspection")
        self.assertEqual(self.lot.mfg_hold_ids.inspection_id, inspection)

        types = [event_type for event_type, _data in self.sent(self.mes)]
        self.assertEqual(types, ["mfg.quality.inspection_completed.v1", "mfg.quality.lot.hold_placed.v1"])
        completed = self.sent(self.mes)[0][1]
        self.assertEqual(completed["outcome"], "fail")
        self.assertEqual(completed["subject"]["lot"], "R-1")
        self.assertEqual(completed["occurred_at"], "2030-01-05T09:30:00Z")
        self.assertEqual(self.sent(self.mes)[1][1]["origin"], "inspection")
        # The hold is Odoo's decision: the QMS hears of it; the inspection it reported is not echoed back.
        [(event_type, placed)] = self.sent(self.qms)
        self.assertEqual(event_type, "mfg.quality.lot.hold_placed.v1")
        self.assertEqual(
            (placed["lot"], placed["origin"], placed["inspection"]), ("R-1", "inspection", inspection.name)
        )

        delivery = self.delivery_of_resin()
        with self.assertRaises(UserError) as blocked:
            delivery.button_validate()
        self.assertIn("R-1", str(blocked.exception))
        self.assertIn(inspection.name, str(blocked.exception))
        self.assertNotEqual(delivery.state, "done")

        self.assertProcessed(
            self.post_event(
                RELEASE,
                {"lot": "R-1", "material": "Q-RESIN", "reason": "Retest passed", "occurred_at": "2030-01-06T08:00:00Z"},
            )
        )
        self.assertFalse(self.lot.mfg_on_hold)
        self.assertEqual(self.lot.mfg_hold_ids.state, "released")
        self.assertEqual(self.lot.mfg_hold_ids.release_reason, "Retest passed")
        self.assertEqual(self.lot.mfg_hold_ids.released_at, datetime(2030, 1, 6, 8, 0))
        self.assertEqual(self.sent(self.mes)[-1][0], "mfg.quality.lot.hold_released.v1")
        self.assertEqual(len(self.sent(self.qms)), 1, "the QMS's own release is not echoed back")
        self.assertTrue(self.system_notes(self.lot).filtered(lambda message: "Retest passed" in message.body))

        delivery.button_validate()
        self.assertEqual(delivery.state, "done")

    def test_result_completes_the_open_inspection(self):
        inspection = self.env["qc.inspection"].create(
            {"object_id": f"stock.lot,{self.lot.id}", "test": self.test.id, "state": "ready"}
        )
        inspection.inspection_lines = inspection._prepare_inspection_lines(self.test)
        result = self.assertProcessed(
            self.post_event(
                RESULT,
                dict(
                    self.failed_result(),
                    results=[
                        {"characteristic": "Viscosity", "value": 150},
                        {"characteristic": "Appearance", "value": "clear"},
                    ],
                    outcome="pass",
                ),
            )
        )
        self.assertEqual(result["records"], [{"model": "qc.inspection", "id": inspection.id, "name": inspection.name}])
        self.assertEqual(result["inspection"]["odoo_outcome"], "pass")
        self.assertIsNone(result["hold"])
        self.assertEqual(inspection.state, "success")
        self.assertTrue(inspection.success)
        self.assertFalse(self.lot.mfg_on_hold)
        [(event_type, data)] = self.sent(self.mes)
        self.assertEqual(
            (event_type, data["outcome"], data["inspection"]),
            ("mfg.quality.inspection_completed.v1", "pass", inspection.name),
        )

    def test_inspection_done_by_hand_is_sent(self):
        inspection = self.env["qc.inspection"].create(
            {"object_id": f"stock.lot,{self.lot.id}", "test": self.test.id, "state": "ready"}
        )
        inspection.inspection_lines = inspection._prepare_inspection_lines(self.test, force_fill=True)
        inspection.action_confirm()
        self.assertEqual(inspection.state, "success")
        for system in (self.qms, self.mes):
            self.assertEqual([t for t, _d in self.sent(system)], ["mfg.quality.inspection_completed.v1"])
        subject = self.sent(self.qms)[0][1]["subject"]
        self.assertEqual((subject["material"], subject["material_odoo_code"]), ("Q-RESIN", "RES-100"))
        self.assertEqual(self.sent(self.mes)[0][1]["subject"]["material"], "RES-100")

    def test_hold_request_blocks_consumption_until_released_by_hand(self):
        production = self.production_using_resin()
        result = self.assertProcessed(
            self.post_event(
                HOLD,
                {
                    "lot": "R-1",
                    "material": "Q-RESIN",
                    "reason": "Supplier recall 77",
                    "occurred_at": "2030-01-05T09:30:00Z",
                },
            )
        )
        self.assertEqual(result["records"], [{"model": "stock.lot", "id": self.lot.id, "name": "R-1"}])
        self.assertTrue(self.lot.mfg_on_hold)
        self.assertEqual(self.lot.mfg_hold_ids.system_id, self.qms)

        with self.assertRaises(UserError) as blocked:
            production.button_mark_done()
        self.assertIn("lot R-1 of [RES-100] Resin is on quality hold (Supplier recall 77)", str(blocked.exception))
        self.assertIn(production.name, str(blocked.exception))

        # Released by hand from the lot form, with a reason.
        action = self.lot.action_mfg_hold_wizard()
        wizard = Form(self.env[action["res_model"]].with_context(**action["context"]))
        wizard.reason = "Recall does not concern R-1"
        wizard.save().action_apply()
        self.assertFalse(self.lot.mfg_on_hold)
        self.assertEqual(self.lot.mfg_hold_ids.released_by_id, self.env.user)

        production.button_mark_done()
        self.assertEqual(production.state, "done")
        self.assertEqual(
            [t for t, _d in self.sent(self.mes)],
            ["mfg.quality.lot.hold_placed.v1", "mfg.quality.lot.hold_released.v1"],
        )
        # A release by hand is news to the QMS too.
        self.assertEqual([t for t, _d in self.sent(self.qms)], ["mfg.quality.lot.hold_released.v1"])

    def test_hold_placed_by_hand_is_sent_and_shown_on_the_lot(self):
        action = self.lot.action_mfg_hold_wizard()
        self.assertEqual(action["context"]["default_action"], "place")
        wizard = Form(self.env[action["res_model"]].with_context(**action["context"]))
        wizard.reason = "Customer complaint 4711"
        wizard.save().action_apply()
        self.assertTrue(self.lot.mfg_on_hold)
        self.assertEqual(self.lot.mfg_hold_reason, "Customer complaint 4711")
        self.assertEqual(self.lot.mfg_hold_ids.origin, "manual")
        self.assertTrue(self.lot.message_ids.filtered(lambda m: "Customer complaint 4711" in m.body))
        # Each system hears it in its own codes: the QMS's mapping, Odoo's code beside it.
        [(event_type, data)] = self.sent(self.qms)
        self.assertEqual(event_type, "mfg.quality.lot.hold_placed.v1")
        self.assertEqual((data["lot"], data["material"], data["reason"]), ("R-1", "Q-RESIN", "Customer complaint 4711"))
        self.assertEqual(data["material_odoo_code"], "RES-100")
        [(_type, data)] = self.sent(self.mes)
        self.assertEqual(data["material"], "RES-100")
        self.assertNotIn("material_odoo_code", data)

    def test_result_on_a_production_order(self):
        production = self.production_using_resin()
        result = self.assertProcessed(self.post_event(RESULT, self.failed_result(production_order=production.name)))
        inspection = self.env["qc.inspection"].browse(result["records"][0]["id"])
        self.assertEqual(inspection.production_id, production)
        self.assertEqual(inspection.state, "failed")

    def test_unknown_characteristic_is_refused_naming_it(self):
        data = self.failed_result()
        data["results"][1]["characteristic"] = "Colour"
        response = self.post_event(RESULT, data)
        self.assertEqual(response.status_code, 422, response.text)
        body = response.json()
        self.assertEqual(body["errors"][0]["path"], "/data/results/1/characteristic")
        self.assertIn("Colour", body["detail"])
        self.assertFalse(self.env["qc.inspection"].search([("lot_id", "=", self.lot.id)]))
        self.assertFalse(self.lot.mfg_on_hold)

    # -- codes of the system's company only ------------------------------------

    def hold_request(self, lot, material):
        return self.post_event(
            HOLD, {"lot": lot, "material": material, "reason": "Recall", "occurred_at": "2030-01-05T09:30:00Z"}
        )

    def test_same_reference_in_another_company_never_picks_its_product(self):
        other = self.env["res.company"].create({"name": "Plastics B"})
        # Company B's product with A's reference, listed first (favourite): the lookup must skip it.
        resin_b = self.env["product.product"].create(
            {
                "name": "Resin B",
                "default_code": "RES-100",
                "company_id": other.id,
                "is_storable": True,
                "tracking": "lot",
                "is_favorite": True,
            }
        )
        lot_b = self.env["stock.lot"].create({"name": "R-B", "product_id": resin_b.id, "company_id": other.id})
        self.env["product.product"].create({"name": "B only", "default_code": "ONLY-B", "company_id": other.id})

        # A's QMS holds A's own lot by A's product reference.
        self.assertProcessed(self.hold_request("R-1", "RES-100"))
        self.assertTrue(self.lot.mfg_on_hold)

        # B's lot and B's product code get the 422 of an unknown code, and leak nothing.
        unknown_lot = self.assertBusinessError(self.hold_request("R-404", "RES-100"), "/data/lot", "R-404")
        b_lot = self.assertBusinessError(self.hold_request("R-B", "RES-100"), "/data/lot", "R-B")
        unknown_code = self.assertBusinessError(self.hold_request("R-1", "NOPE-1"), "/data/material", "NOPE-1")
        self.ignore(unknown_code)
        b_code = self.assertBusinessError(self.hold_request("R-1", "ONLY-B"), "/data/material", "ONLY-B")
        self.assertEqual(b_lot["detail"], unknown_lot["detail"].replace("R-404", "R-B"))
        self.assertEqual(b_code["detail"], unknown_code["detail"].replace("NOPE-1", "ONLY-B"))
        for body in (b_lot, b_code):
            self.assertEqual(body["type"], unknown_lot["type"])
            self.assertNotIn(self.tech_login, json.dumps(body))
            self.assertNotIn("Plastics B", json.dumps(body))
        self.assertFalse(lot_b.mfg_on_hold)

    def test_wildcard_characters_in_a_test_code_or_unit_match_nothing(self):
        data = self.failed_result()
        data["test"] = "V%"
        self.assertBusinessError(self.post_event(RESULT, data), "/data/test", "V%")
        data = self.failed_result()
        data["results"][0]["uom"] = "_ni%"
        self.assertBusinessError(self.post_event(RESULT, data), "/data/results/0/uom", "_ni%")
        self.assertFalse(self.env["qc.inspection"].search([("lot_id", "=", self.lot.id)]))

    # -- issue 16 item 4: replays of quality events ------------------------------------

    def hold(self, lot="R-9", reason="Supplier recall 77"):
        return {"lot": lot, "material": "Q-RESIN", "reason": reason, "occurred_at": "2030-01-05T09:30:00Z"}

    def test_hold_request_replayed_after_reprocess_answers_200(self):
        event_id = "qms-hold-1"
        self.assertEqual(self.post_event(HOLD, self.hold(), event_id=event_id).status_code, 422)
        message = self.env["mfg.integration.message"].search([("event_id", "=", event_id)])
        lot = self.env["stock.lot"].create({"name": "R-9", "product_id": self.resin.id})
        self.assertEqual(message.action_inbound_reprocess(), {message.id: "processed"})
        self.assertTrue(lot.mfg_on_hold)
        replay = self.post_event(HOLD, self.hold(), event_id=event_id)
        self.assertEqual(replay.status_code, 200, replay.text)
        self.assertEqual(replay.headers["Idempotent-Replayed"], "true")
        self.assertEqual(replay.json()["result"]["records"][0]["id"], lot.id)
        self.assertEqual(len(lot.mfg_hold_ids), 1, "applied once")

    def test_hold_request_failed_for_a_missing_right_applies_when_re_posted(self):
        tech = self.qms.user_ids
        stock_user = self.env.ref("stock.group_stock_user")
        tech.groups_id = [(3, stock_user.id)]
        response = self.post_event(HOLD, self.hold(lot="R-1"), event_id="qms-hold-2")
        self.assertEqual(response.status_code, 403, response.text)
        self.assertNotIn(tech.login, response.text)
        self.assertFalse(self.lot.mfg_on_hold)
        tech.groups_id = [(4, stock_user.id)]
        again = self.post_event(HOLD, self.hold(lot="R-1"), event_id="qms-hold-2")
        self.assertEqual(again.status_code, 200, again.text)
        self.assertTrue(self.lot.mfg_on_hold)

    def test_pass_outside_the_limits_records_both_verdicts_and_flags_it_once(self):
        quality_lead = new_test_user(
            self.env, login=f"ql-{uuid.uuid4().hex[:6]}", groups="quality_control_oca.group_quality_control_manager"
        )
        self.qms.responsible_user_id = quality_lead
        data = dict(
            self.failed_result(),
            results=[
                {"characteristic": "VISC_MPAS", "value": 999},
                {"characteristic": "Appearance", "value": "clear"},
            ],
            outcome="pass",
            inspector="Somebody at the lab",
        )
        result = self.assertProcessed(self.post_event(RESULT, data))

        inspection = self.env["qc.inspection"].browse(result["records"][0]["id"])
        self.assertEqual(result["inspection"], {"name": inspection.name, "outcome": "pass", "odoo_outcome": "fail"})
        self.assertIsNone(result["hold"])
        # The system's verdict decides the state; Odoo's verdict is kept beside it.
        self.assertEqual(inspection.state, "success")
        self.assertEqual(inspection.mfg_reported_outcome, "pass")
        self.assertFalse(inspection.success)
        self.assertTrue(inspection.mfg_verdicts_differ)
        self.assertIn(inspection, self.env["qc.inspection"].search([("mfg_verdicts_differ", "=", True)]))
        [activity] = inspection.activity_ids
        self.assertEqual(activity.user_id, quality_lead)
        self.assertIn("QMS says pass, the test's limits say fail", activity.summary)
        self.assertIn("Viscosity: 999.0", str(activity.note))
        self.assertTrue(self.system_notes(inspection).filtered(lambda message: "999.0" in message.body))
        self.assertFalse(self.lot.mfg_on_hold)

    def test_hold_request_is_noted_in_the_systems_name_and_not_echoed(self):
        data = {
            "lot": "R-1",
            "material": "Q-RESIN",
            "reason": "Supplier recall 77",
            "occurred_at": "2030-01-05T09:30:00Z",
        }
        self.assertProcessed(self.post_event(HOLD, data))
        [note] = self.system_notes(self.lot)
        self.assertIn("Supplier recall 77", note.body)
        self.assertEqual(self.sent(self.qms), [], "the QMS is not told back what it requested")
        self.assertEqual([t for t, _d in self.sent(self.mes)], ["mfg.quality.lot.hold_placed.v1"])


@tagged("post_install", "-at_install")
class TestQualityTwoCompanies(InboundApiMixin, HttpCase):
    """Company A's QMS names A's own lot by A's internal reference while company B has a product
    with the same internal reference."""

    event_source = "urn:qms:plant-a"

    def test_hold_by_internal_reference_finds_the_systems_company_product(self):
        company_a = self.env.company
        company_b = self.env["res.company"].create({"name": "Plant B Ltd"})
        hold_types = self.env["mfg.integration.event.type"].search([("code", "in", (HOLD, RELEASE))])
        qms = self.env["mfg.integration.system"].create(
            {"name": "QMS A", "code": "QMS-A", "kind": "qms", "inbound_event_type_ids": [(6, 0, hold_types.ids)]}
        )
        tech = new_test_user(
            self.env,
            login=f"tech-qms-a-{uuid.uuid4().hex[:6]}",
            email=False,
            groups=TECHNICAL_USER_GROUPS,
            company_id=company_a.id,
            company_ids=[(6, 0, company_a.ids)],
        )
        tech.mfg_system_id = qms
        self.key = self.make_api_key(tech, "qms-a")
        # B's product comes first in Odoo's default order and id: a lookup across companies picks it.
        resin_b = self.env["product.product"].create(
            {"name": "Resin", "default_code": "RES-100", "tracking": "lot", "company_id": company_b.id}
        )
        resin_a = self.env["product.product"].create(
            {"name": "Resin", "default_code": "RES-100", "tracking": "lot", "company_id": company_a.id}
        )
        lot_a = self.env["stock.lot"].create({"name": "R-1", "product_id": resin_a.id, "company_id": company_a.id})
        lot_b = self.env["stock.lot"].create({"name": "R-1", "product_id": resin_b.id, "company_id": company_b.id})

        data = {
            "lot": "R-1",
            "material": "RES-100",
            "reason": "Supplier recall 77",
            "occurred_at": "2030-01-05T09:30:00Z",
        }
        response = self.post_event(HOLD, data)
        self.assertNotIn(tech.login, response.text)
        result = self.assertProcessed(response)
        self.assertEqual(result["records"], [{"model": "stock.lot", "id": lot_a.id, "name": "R-1"}])
        self.assertTrue(lot_a.mfg_on_hold)
        self.assertFalse(lot_b.mfg_on_hold)
