"""Plant data and a WMS system for the inventory tests."""

import uuid

from odoo.tests import HttpCase, new_test_user

from odoo.addons.mfg_integration.tests.common import InboundApiMixin, IntegrationFixtures

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


class InventoryApiCase(InboundApiMixin, HttpCase, PlantFixtures):
    event_source = "urn:wms:plant1"

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
        self.key = self.make_api_key(self.wms_user, "wms")

    def assertBusinessError(self, response, path, *words):
        body = super().assertBusinessError(response, path, *words)
        self.assertEqual(body["type"], "urn:mfg-integration:problem:business-error", body)
        return body
