"""Supplier loop fixtures: a supplier portal as an external system, with a technical
user and API key for the inbound REST API and an endpoint for its webhooks."""

import json
import uuid

from odoo.tests import HttpCase, new_test_user

from odoo.addons.mfg_integration.tests.common import InboundApiMixin

API = "/api/mfg/v1"
OUTBOUND = (
    "mfg.purchase_order.confirmed.v1",
    "mfg.purchase_order.changed.v1",
    "mfg.purchase_order.cancelled.v1",
)
INBOUND = ("mfg.supplier.order_acknowledged.v1", "mfg.supplier.shipment_notified.v1")
# The supplier portal's technical user's rights, as the README lists them.
TECHNICAL_USER_GROUPS = "purchase.group_purchase_user,stock.group_stock_user"


class SupplierLoopCase(InboundApiMixin, HttpCase):
    event_source = "urn:supplier:acme"

    def setUp(self):
        super().setUp()
        EventType = self.env["mfg.integration.event.type"]
        self.outbound_types = EventType.search([("code", "in", OUTBOUND)])
        self.inbound_types = EventType.search([("code", "in", INBOUND)])
        self.system, self.tech_user, self.key = self.make_supplier_system("ACME-PORTAL")
        self.endpoint = self.make_endpoint(self.system)
        self.buyer = new_test_user(
            self.env,
            login=f"buyer-{uuid.uuid4().hex[:6]}",
            name="Bea Buyer",
            email="bea@example.com",
            groups="base.group_user,purchase.group_purchase_user",
        )
        self.supplier = self.env["res.partner"].create(
            {"name": "ACME Fasteners", "ref": "V-ACME", "mfg_system_id": self.system.id, "is_company": True}
        )
        self.warehouse = self.env["stock.warehouse"].search([("company_id", "=", self.env.company.id)], limit=1)
        self.bolt = self.env["product.product"].create(
            {
                "name": "Bolt M8",
                "default_code": "BOLT-M8",
                "is_storable": True,
                "tracking": "lot",
                "seller_ids": [(0, 0, {"partner_id": self.supplier.id, "product_code": "ACME-778", "price": 0.5})],
            }
        )
        self.nut = self.env["product.product"].create({"name": "Nut M8", "default_code": "NUT-M8", "is_storable": True})

    # -- fixtures ------------------------------------------------------------

    def make_supplier_system(self, code):
        system = self.env["mfg.integration.system"].create(
            {"name": code, "code": code, "kind": "supplier", "inbound_event_type_ids": [(6, 0, self.inbound_types.ids)]}
        )
        # As the README creates it: no e-mail address, only the documented rights.
        user = new_test_user(
            self.env,
            login=f"tech-{code.lower()}-{uuid.uuid4().hex[:6]}",
            email=False,
            groups=TECHNICAL_USER_GROUPS,
        )
        user.mfg_system_id = system
        key = self.make_api_key(user, code)
        return system, user, key

    def make_endpoint(self, system):
        return self.env["mfg.integration.endpoint"].create(
            {
                "name": f"{system.code} webhooks",
                "system_id": system.id,
                "url": f"https://{system.code.lower()}.example.com/hook",
                "subscription_ids": [(0, 0, {"event_type_id": t.id}) for t in self.outbound_types],
            }
        )

    def make_order(self, partner=None, bolts=100, nuts=50):
        order = self.env["purchase.order"].create(
            {
                "partner_id": (partner or self.supplier).id,
                "user_id": self.buyer.id,
                "picking_type_id": self.warehouse.in_type_id.id,
                "order_line": [
                    (0, 0, {"product_id": self.bolt.id, "product_qty": bolts, "price_unit": 0.5}),
                    (0, 0, {"product_id": self.nut.id, "product_qty": nuts, "price_unit": 0.2}),
                ],
            }
        )
        return order

    def line_of(self, order, product):
        return order.order_line.filtered(lambda line: line.product_id == product)

    # -- outbound: the dispatcher's own steps, in the test's transaction -------

    def sent(self, system):
        """The outbound events queued for ``system`` (the outbox), oldest first, as (type, data)."""
        messages = self.env["mfg.integration.message"].search(
            [("system_id", "=", system.id), ("direction", "=", "outbound")], order="id"
        )
        return [(message.event_type_id.code, json.loads(message.payload)) for message in messages]

    def outbox(self, event_type_code, record):
        return self.env["mfg.integration.message"].search(
            [
                ("event_type_id.code", "=", event_type_code),
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
            ],
            order="id",
        )

    def system_notes(self, record):
        """The chatter notes on ``record`` written in the supplier system's name (by OdooBot)."""
        return record.message_ids.filtered(
            lambda message: message.author_id == self.env.ref("base.partner_root") and self.system.name in message.body
        )

    # -- inbound: the REST API ---------------------------------------------
