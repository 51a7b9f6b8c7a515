# The loop commits on purpose: the outbox, the dispatcher and the API's inbox are about commits.
# pylint: disable=invalid-commit
"""Codes both ways, as an MES with its own article and work-center codes lives it over HTTP."""

import requests
from standardwebhooks.webhooks import Webhook

from odoo.tools import config

from odoo.addons.mfg_integration.lib import schema as schema_lib

from .test_shop_floor_loop import COMPLETED, DOWNTIME, PROGRESS, ShopFloorCase


class TestMappedCodes(ShopFloorCase):
    def setUp(self):
        super().setUp()
        self.unit = self.env.ref("uom.product_uom_unit")
        Mapping = self.env["mfg.integration.code.mapping"]
        for kind, code, record in (
            ("product", "ART-900", self.finished),
            ("product", "MAT-STEEL", self.steel),
            ("workcenter", "WC-10", self.workcenter),
            ("uom", "PCE", self.unit),
        ):
            target = f"{record._name},{record.id}"
            Mapping.create({"system_id": self.mes.id, "kind": kind, "external_code": code, "target_ref": target})
        self.cr.commit()

    def test_job_order_and_reports_speak_the_mes_codes(self):
        self.order.action_confirm()
        self.cr.commit()
        self.dispatch()
        [released] = self.mes_receiver.received
        Webhook(self.endpoint._signing_secrets()[0]).verify(released.body, released.headers)
        event = released.json()
        job = event["data"]
        self.assertEqual((job["product"], job["product_odoo_code"]), ("ART-900", self.finished.default_code))
        self.assertEqual((job["uom"], job["uom_odoo_code"]), ("PCE", self.unit.name))
        components = {c["material"]: c for c in job["components"]}
        self.assertEqual(set(components), {"MAT-STEEL", self.bolt.default_code})
        self.assertEqual(components["MAT-STEEL"]["material_odoo_code"], self.steel.default_code)
        self.assertNotIn("material_odoo_code", components[self.bolt.default_code], "no mapping: Odoo's code only")
        [operation] = job["operations"]
        self.assertEqual(operation["work_center"], "WC-10")
        self.assertEqual(operation["work_center_odoo_code"], self.workcenter.code)

        # The event names its schema by an absolute URL anyone can fetch, and the data matches it.
        base_url = self.env["ir.config_parameter"].get_param("web.base.url")
        self.assertEqual(event["dataschema"], f"{base_url}/api/mfg/v1/schemas/{event['type']}.json")
        served = requests.get(
            f"http://127.0.0.1:{config['http_port']}/api/mfg/v1/schemas/{event['type']}.json", timeout=30
        )
        self.assertEqual(served.status_code, 200)
        schema_lib.ensure_valid(served.json(), job)
        self.assertEqual(served.json()["properties"]["product"]["x-mfg-code"], "product")

        # The MES answers in its own codes: operation, downtime, report with consumption and close.
        start = self.post(
            PROGRESS,
            {
                "production_order": self.order.name,
                "operation": "Assemble",
                "action": "start",
                "occurred_at": "2026-11-23T08:00:00Z",
            },
        )
        self.assertEqual(start.status_code, 200, start.text)
        downtime = self.post(
            DOWNTIME,
            {
                "work_center": "WC-10",
                "reason": "equipment failure",
                "started_at": "2026-11-23T09:10:00Z",
                "ended_at": "2026-11-23T09:20:00Z",
            },
        )
        self.assertEqual(downtime.status_code, 200, downtime.text)
        report = self.report(
            10,
            uom="PCE",
            consumed=[
                {"material": "MAT-STEEL", "quantity": 20, "uom": "PCE", "lot": self.steel_lot.name},
                self.bolts_used(10),
            ],
            close=True,
        )
        self.assertEqual(report.status_code, 200, report.text)
        self.assertEqual(self.order.state, "done")
        self.assertEqual(self.order.qty_produced, 10)
        self.assertEqual(self.on_hand(self.steel, self.steel_lot), 80)
        loss = self.env["mrp.workcenter.productivity"].browse(downtime.json()["result"]["records"][0]["id"])
        self.assertEqual((loss.workcenter_id, loss.duration), (self.workcenter, 10))

        self.dispatch()
        [completed] = [e["data"] for e in self.mes_receiver.events() if e["type"] == COMPLETED]
        self.assertEqual((completed["product"], completed["uom"]), ("ART-900", "PCE"))
        consumed = {line["material"]: line for line in completed["consumed"]}
        self.assertEqual(consumed["MAT-STEEL"]["material_odoo_code"], self.steel.default_code)
        self.assertEqual(consumed["MAT-STEEL"]["quantity"], 20)

    def test_another_system_of_the_plant_keeps_odoos_codes(self):
        other_receiver = self.receiver()
        other = self.make_system(warehouse_id=self.warehouse.id)
        self.make_endpoint(other, other_receiver.url, self.endpoint.subscription_ids.event_type_id)
        self.cr.commit()
        self.order.action_confirm()
        self.cr.commit()
        self.dispatch()
        [mine] = self.mes_receiver.events()
        [theirs] = other_receiver.events()
        self.assertEqual(mine["data"]["product"], "ART-900")
        self.assertEqual(theirs["data"]["product"], self.finished.default_code)
        self.assertNotIn("product_odoo_code", theirs["data"])

    def test_wildcard_characters_are_plain_characters_in_codes(self):
        self.order.action_confirm()
        self.cr.commit()
        for extra, path in (
            ({"uom": "_ni%"}, "/data/uom"),
            ({"consumed": [{"material": "%", "quantity": 1, "lot": self.steel_lot.name}]}, "/data/consumed/0/material"),
        ):
            response = self.report(1, **extra)
            self.assertEqual(response.status_code, 422, response.text)
            self.assertEqual(response.json()["errors"][0]["path"], path)
            self.ignore(response)
        reason = self.post(DOWNTIME, {"work_center": "WC-1_", "reason": "%", "started_at": "2026-11-23T09:10:00Z"})
        self.assertEqual(reason.status_code, 422, reason.text)
        self.assertEqual(reason.json()["errors"][0]["path"], "/data/work_center")
        reason = self.post(DOWNTIME, {"work_center": "WC-10", "reason": "%", "started_at": "2026-11-23T09:10:00Z"})
        self.assertEqual(reason.status_code, 422, reason.text)
        self.assertEqual(reason.json()["errors"][0]["path"], "/data/reason")
        self.assertEqual(self.order.qty_producing, 0)
