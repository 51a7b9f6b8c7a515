"""Plant data and a WMS system for the inventory tests."""

import json
import uuid
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user

from odoo.addons.mfg_integration.tests.common import IntegrationFixtures

API_EVENTS = "/api/mfg/v1/events"


class PlantFixtures(IntegrationFixtures):
    """Two plants (warehouses), lot-tracked and untracked materials with stock."""

    def setup_plants(self):
        env = self.env
        self.tag = uuid.uuid4().hex[:6].upper()
        self.plant1 = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        self.plant2 = env["stock.warehouse"].create(
            {"name": f"Plant 2 {self.tag}", "code": f"P2{self.tag[:3]}", "company_id": env.company.id}
        )
        self.stock1 = self.plant1.lot_stock_id
        self.shelf1 = env["stock.location"].create(
            {"name": f"Shelf {self.tag}", "location_id": self.stock1.id, "barcode": f"SHELF-{self.tag}"}
        )
        Product = env["product.product"]
        self.steel = Product.create(
            {"name": f"Steel {self.tag}", "default_code": f"STEEL-{self.tag}", "is_storable": True, "tracking": "lot"}
        )
        self.bolt = Product.create(
            {
                "name": f"Bolt {self.tag}",
                "default_code": f"BOLT-{self.tag}",
                "barcode": f"40{self.tag}",
                "is_storable": True,
            }
        )
        self.steel_lot = env["stock.lot"].create({"name": f"L-77-{self.tag}", "product_id": self.steel.id})
        Quant = env["stock.quant"]
        Quant._update_available_quantity(self.steel, self.stock1, 100, lot_id=self.steel_lot)
        Quant._update_available_quantity(self.bolt, self.stock1, 50)

    def on_hand(self, product, location, lot=None):
        quants = self.env["stock.quant"].search(
            [
                ("product_id", "=", product.id),
                ("location_id", "=", location.id),
                ("lot_id", "=", lot.id if lot else False),
            ]
        )
        return sum(quants.mapped("quantity"))

    def event_types(self, *codes):
        return self.env["mfg.integration.event.type"].search([("code", "in", codes)])


class InventoryApiCase(HttpCase, PlantFixtures):
    """Reports posted through the real inbound API by a WMS's technical user (rolled back after)."""

    inbound_types = ()

    def setUp(self):
        super().setUp()
        self.setup_plants()
        self.wms = self.make_system(
            warehouse_id=self.plant1.id, inbound_event_type_ids=[(6, 0, self.event_types(*self.inbound_types).ids)]
        )
        self.wms_user = new_test_user(
            self.env,
            login=f"wms-{self.tag.lower()}",
            groups="base.group_user,stock.group_stock_user",
        )
        self.wms_user.mfg_system_id = self.wms
        self.key = (
            self.env["res.users.apikeys"]
            .with_user(self.wms_user)
            ._generate(None, "wms", fields.Datetime.now() + timedelta(days=1))
        )

    def post(self, event_type, data, event_id=None):
        event = {
            "specversion": "1.0",
            "id": event_id or str(uuid.uuid4()),
            "source": "urn:wms:plant1",
            "type": event_type,
            "time": "2026-11-22T10:00:00Z",
            "data": data,
        }
        response = self.url_open(
            API_EVENTS,
            data=json.dumps(event),
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/cloudevents+json"},
        )
        self.env.invalidate_all()
        return response

    def assertProcessed(self, response):
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        self.assertEqual(body["status"], "processed")
        return body["result"]

    def assertBusinessError(self, response, path, *words):
        self.assertEqual(response.status_code, 422, response.text)
        body = response.json()
        self.assertEqual(body["type"], "urn:mfg-integration:problem:business-error", body)
        self.assertEqual(body["errors"][0]["path"], path, body)
        for word in words:
            self.assertIn(word, body["detail"])
        return body
