"""Production order events on the ORM: emitted on the transitions themselves, with business payloads."""

import json
import uuid
from datetime import datetime

from odoo.tests import tagged

from odoo.addons.mfg_integration.tests.common import IntegrationCase

RELEASED = "mfg.production_order.released.v1"
CHANGED = "mfg.production_order.changed.v1"
STARTED = "mfg.production_order.started.v1"
COMPLETED = "mfg.production_order.completed.v1"
CANCELLED = "mfg.production_order.cancelled.v1"
WO_STARTED = "mfg.work_order.started.v1"
WO_FINISHED = "mfg.work_order.finished.v1"
ALL = (RELEASED, CHANGED, STARTED, COMPLETED, CANCELLED, WO_STARTED, WO_FINISHED)


@tagged("post_install", "-at_install")
class TestProductionEvents(IntegrationCase):
    def setUp(self):
        super().setUp()
        env = self.env
        tag = uuid.uuid4().hex[:6].upper()
        self.warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        Product = env["product.product"]
        self.finished = Product.create({"name": f"Pump {tag}", "default_code": f"FG-{tag}", "is_storable": True})
        self.steel = Product.create(
            {"name": f"Steel {tag}", "default_code": f"STEEL-{tag}", "is_storable": True, "tracking": "lot"}
        )
        self.bolt = Product.create({"name": f"Bolt {tag}", "default_code": f"BOLT-{tag}", "is_storable": True})
        env["stock.quant"]._update_available_quantity(self.bolt, self.warehouse.lot_stock_id, 100)
        env["res.config.settings"].create({"group_mrp_routings": True}).execute()
        self.workcenter = env["mrp.workcenter"].create({"name": f"Assembly {tag}", "code": f"ASSY-{tag}"})
        self.bom = env["mrp.bom"].create(
            {
                "product_tmpl_id": self.finished.product_tmpl_id.id,
                "product_qty": 1,
                "bom_line_ids": [
                    (0, 0, {"product_id": self.steel.id, "product_qty": 2}),
                    (0, 0, {"product_id": self.bolt.id, "product_qty": 4}),
                ],
                "operation_ids": [
                    (0, 0, {"name": "Assemble", "workcenter_id": self.workcenter.id, "time_cycle_manual": 30})
                ],
            }
        )
        types = env["mfg.integration.event.type"].search([("code", "in", ALL)])
        self.mes = self.make_system(warehouse_id=self.warehouse.id)
        self.endpoint = self.make_endpoint(self.mes, "https://mes.example.com/hook", types)
        self.order = env["mrp.production"].create(
            {
                "product_id": self.finished.id,
                "product_qty": 10,
                "bom_id": self.bom.id,
                "origin": "SO042",
                "date_start": datetime(2026, 12, 1, 6, 0),
            }
        )

    def events(self, code=None):
        messages = self.messages_of(self.endpoint)
        if code:
            messages = messages.filtered(lambda m: m.event_type_id.code == code)
        return [json.loads(message.payload) for message in messages]

    def codes(self):
        return [message.event_type_id.code for message in self.messages_of(self.endpoint)]

    def test_released_is_the_job_order(self):
        self.order.write({"origin": "SO042 rev 2"})  # a draft order is no news
        self.assertFalse(self.codes())

        self.order.action_confirm()

        self.assertEqual(self.codes(), [RELEASED])
        [job] = self.events(RELEASED)
        self.assertEqual(job["production_order"], self.order.name)
        self.assertEqual(job["plant"], self.warehouse.code)
        self.assertEqual(job["product"], self.finished.default_code)
        self.assertEqual((job["quantity"], job["uom"], job["tracking"]), (10, "Units", "none"))
        self.assertEqual(job["planned_start"], "2026-12-01T06:00:00Z")
        self.assertEqual(job["origin"], "SO042 rev 2")
        self.assertEqual(
            job["components"],
            [
                {"material": self.steel.default_code, "quantity": 20, "uom": "Units", "tracking": "lot"},
                {"material": self.bolt.default_code, "quantity": 40, "uom": "Units", "tracking": "none"},
            ],
        )
        [operation] = job["operations"]
        self.assertEqual(operation["name"], "Assemble")
        self.assertEqual(operation["work_center"], self.workcenter.code)
        self.assertEqual(operation["expected_duration_minutes"], 300)
        self.assertEqual(self.messages_of(self.endpoint).record_ref, self.order)

    def test_changed_only_when_quantity_or_dates_really_change_after_release(self):
        self.order.action_confirm()
        self.order.write({"origin": "unrelated", "priority": "1"})
        self.order.write({"product_qty": 10.0, "date_start": datetime(2026, 12, 1, 6, 0)})  # same values
        self.assertEqual(self.codes(), [RELEASED])

        wizard = self.env["change.production.qty"].create({"mo_id": self.order.id, "product_qty": 12})
        wizard.change_prod_qty()
        self.order.write({"date_start": datetime(2026, 12, 2, 6, 0)})

        self.assertEqual(self.codes(), [RELEASED, CHANGED, CHANGED])
        first, second = self.events(CHANGED)
        self.assertEqual(first["changed"], ["quantity"])
        self.assertEqual(first["quantity"], 12)
        self.assertEqual(first["components"][0]["quantity"], 24)
        self.assertIn("planned_start", second["changed"])
        self.assertEqual(second["planned_start"], "2026-12-02T06:00:00Z")

    def test_started_completed_and_work_order_events(self):
        self.order.action_confirm()
        workorder = self.order.workorder_ids
        workorder.button_start()
        workorder.button_start()  # already running: no second event
        self.assertEqual(self.codes(), [RELEASED, STARTED, WO_STARTED])
        [started] = self.events(STARTED)
        self.assertEqual(started["production_order"], self.order.name)

        self.order.qty_producing = 10
        steel_move = self.order.move_raw_ids.filtered(lambda m: m.product_id == self.steel)
        steel_move.move_line_ids.unlink()
        lot = self.env["stock.lot"].create({"name": "L-77", "product_id": self.steel.id})
        self.env["stock.quant"]._update_available_quantity(self.steel, self.warehouse.lot_stock_id, 50, lot_id=lot)
        self.env["stock.move.line"].create(
            {
                "move_id": steel_move.id,
                "product_id": self.steel.id,
                "lot_id": lot.id,
                "quantity": 20,
                "location_id": steel_move.location_id.id,
                "location_dest_id": steel_move.location_dest_id.id,
            }
        )
        self.order.move_raw_ids.picked = True
        workorder.button_finish()
        self.order.button_mark_done()

        self.assertEqual(self.order.state, "done")
        self.assertEqual(self.codes(), [RELEASED, STARTED, WO_STARTED, WO_FINISHED, COMPLETED])
        [completed] = self.events(COMPLETED)
        self.assertEqual(completed["produced_quantity"], 10)
        consumed = {(line["material"], line["lot"]): line["quantity"] for line in completed["consumed"]}
        self.assertEqual(consumed, {(self.steel.default_code, "L-77"): 20, (self.bolt.default_code, None): 40})
        self.order.write({"priority": "0"})
        self.assertEqual(len(self.codes()), 5, "writing on a done order emits nothing")

    def test_cancelled(self):
        self.order.action_confirm()
        self.order.action_cancel()
        self.order.action_cancel()
        self.assertEqual(self.codes(), [RELEASED, CANCELLED])
        [cancelled] = self.events(CANCELLED)
        self.assertEqual(cancelled["production_order"], self.order.name)
        self.assertTrue(cancelled["cancelled_at"].endswith("Z"))

    def test_a_renamed_plant_goes_out_under_its_new_code(self):
        self.order.action_confirm()  # the plant's code is cached from here on
        self.warehouse.code = "PL9"
        self.order.action_cancel()
        self.assertEqual(self.events(CANCELLED)[0]["plant"], "PL9")

    def test_other_plants_system_hears_nothing(self):
        plant2 = self.env["stock.warehouse"].create({"name": "Plant 2", "code": "PL2"})
        mes2 = self.make_system(warehouse_id=plant2.id)
        endpoint2 = self.make_endpoint(
            mes2, "https://mes2.example.com/hook", self.endpoint.subscription_ids.event_type_id
        )
        self.order.action_confirm()
        self.assertEqual(len(self.messages_of(self.endpoint)), 1)
        self.assertFalse(self.messages_of(endpoint2))

    def test_planner_sees_a_failed_message_on_the_order_and_work_order(self):
        self.order.action_confirm()
        self.order.workorder_ids.button_start()
        messages = self.messages_of(self.endpoint)
        messages.filtered(lambda m: m.event_type_id.code == RELEASED).state = "dead"
        messages.filtered(lambda m: m.event_type_id.code == WO_STARTED).state = "retry"
        workorder = self.order.workorder_ids
        self.env.invalidate_all()

        self.assertEqual((self.order.mfg_integration_status, self.order.mfg_message_count), ("failed", 2))
        self.assertEqual((workorder.mfg_integration_status, workorder.mfg_message_count), ("failed", 1))
        self.assertIn(self.order, self.env["mrp.production"].search([("mfg_integration_status", "=", "failed")]))
        self.assertIn(workorder, self.env["mrp.workorder"].search([("mfg_integration_status", "=", "failed")]))
        action = self.order.action_view_mfg_messages()
        self.assertEqual(action["context"], {"search_default_failed": 1})
        self.assertEqual(
            self.env["mfg.integration.message"].search(action["domain"]).filtered(lambda m: m.state == "dead"),
            messages.filtered(lambda m: m.event_type_id.code == RELEASED),
        )
        # The smart button, the badge and the filter are on the planners' views.
        for model, view_types in (
            ("mrp.production", ("form", "list", "search")),
            ("mrp.workorder", ("form", "search")),
        ):
            views = self.env[model].get_views([(False, view_type) for view_type in view_types])["views"]
            archs = {view_type: views[view_type]["arch"] for view_type in view_types}
            if "form" in archs:
                self.assertIn("action_view_mfg_messages", archs["form"])
                self.assertIn("mfg_integration_status", archs["form"])
            self.assertIn('name="mfg_integration_failed"', archs["search"])
        for search_view in (
            "mrp.view_mrp_production_work_order_search",
            "mrp.view_mrp_production_workorder_form_view_filter",
        ):
            arch = self.env["mrp.workorder"].get_views([(self.env.ref(search_view).id, "search")])["views"]["search"]
            self.assertIn('name="mfg_integration_failed"', arch["arch"])
