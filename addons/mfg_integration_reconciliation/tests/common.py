"""A plant of its own, an MES and a WMS posting snapshots through the real inbound API."""

import json
import uuid
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user
from odoo.tools import SQL

from odoo.addons.mfg_integration.lib.timeconv import to_rfc3339
from odoo.addons.mfg_integration.tests.common import InboundApiMixin
from odoo.addons.mfg_integration_stock.tests.common import PlantFixtures

WIP = "mfg.production.wip_reported.v1"
STOCK = "mfg.inventory.snapshot_reported.v1"
PERFORMANCE = "mfg.production.performance_reported.v1"
OPEN_LINES = "mfg.purchase.open_lines_reported.v1"
OPEN_LINES_OUT = "mfg.purchase.open_lines_published.v1"
WIP_OUT = "mfg.production.wip_published.v1"
STOCK_OUT = "mfg.inventory.snapshot_published.v1"


class ReconciliationCase(InboundApiMixin, HttpCase, PlantFixtures):
    """Each test has its own plant (warehouse), made here rather than by ``setup_plants``, so other
    tests' orders and stock never show up."""

    def setUp(self):
        super().setUp()
        env = self.env
        self.tag = uuid.uuid4().hex[:6].upper()
        self.plant = env["stock.warehouse"].create({"name": f"Recon {self.tag}", "code": f"R{self.tag[:4]}"})
        self.stock = self.plant.lot_stock_id
        self.shelf = env["stock.location"].create(
            {"name": f"Shelf {self.tag}", "location_id": self.stock.id, "barcode": f"SHELF-{self.tag}"}
        )
        Product = env["product.product"]
        self.pump = Product.create(
            {"name": f"Pump {self.tag}", "default_code": f"PUMP-{self.tag}", "is_storable": True}
        )
        self.bolt = Product.create(
            {"name": f"Bolt {self.tag}", "default_code": f"BOLT-{self.tag}", "is_storable": True}
        )
        self.steel = Product.create(
            {"name": f"Steel {self.tag}", "default_code": f"STEEL-{self.tag}", "is_storable": True, "tracking": "lot"}
        )
        self.lot1 = env["stock.lot"].create({"name": f"L1-{self.tag}", "product_id": self.steel.id})
        Quant = env["stock.quant"]
        Quant._update_available_quantity(self.bolt, self.stock, 100)
        Quant._update_available_quantity(self.bolt, self.shelf, 20)
        Quant._update_available_quantity(self.steel, self.shelf, 30, lot_id=self.lot1)
        Types = env["mfg.integration.event.type"]
        self.mes = self.make_system(
            code=f"MES-{self.tag}",
            warehouse_id=self.plant.id,
            inbound_event_type_ids=[(6, 0, Types.search([("code", "in", (WIP, PERFORMANCE))]).ids)],
        )
        self.wms = self.make_system(
            code=f"WMS-{self.tag}",
            kind="wms",
            warehouse_id=self.plant.id,
            allow_lot_creation=True,
            inbound_event_type_ids=[(6, 0, Types.search([("code", "=", STOCK)]).ids)],
        )
        self.mes_key = self.technical_key(self.mes, "mrp.group_mrp_user,stock.group_stock_user")
        self.wms_key = self.technical_key(self.wms, "stock.group_stock_user")
        self.key = self.mes_key
        self.manager = new_test_user(
            env,
            login=f"recon-manager-{self.tag.lower()}",
            groups="base.group_user,stock.group_stock_manager,mrp.group_mrp_user,purchase.group_purchase_user,"
            "mfg_integration.group_mfg_integration_manager",
        )
        self.viewer = new_test_user(
            env,
            login=f"recon-viewer-{self.tag.lower()}",
            groups="base.group_user,stock.group_stock_user,mfg_integration.group_mfg_integration_user",
        )

    def technical_key(self, system, groups):
        user = new_test_user(self.env, login=f"{system.code.lower()}-bot", groups=f"base.group_user,{groups}")
        user.mfg_system_id = system
        return self.make_api_key(user, system.code)

    # -- Odoo side ----------------------------------------------------------------------------

    def make_order(self, quantity=10):
        # No components: the reports and accepted values here are about the finished product.
        order = self.env["mrp.production"].create(
            {"product_id": self.pump.id, "product_qty": quantity, "picking_type_id": self.plant.manu_type_id.id}
        )
        order.action_confirm()
        self.backdate(order, "create_date")  # released yesterday
        return order

    def backdate(self, record, column):
        """Set ``record``'s ``column`` to a day ago: open at every snapshot's as_of of the tests."""
        record.flush_recordset()
        self.env.cr.execute(
            SQL(
                "UPDATE %s SET %s = now() - interval '1 day' WHERE id = %s",
                SQL.identifier(record._table),
                SQL.identifier(column),
                record.id,
            )
        )
        record.invalidate_recordset([column])

    def report_production(self, order, quantity, occurred_at):
        """The MES reports production through the API, dated when it happened."""
        data = {"production_order": order.name, "quantity": quantity, "occurred_at": to_rfc3339(occurred_at)}
        return self.assertProcessed(self.post_event(PERFORMANCE, data, key=self.mes_key))

    def move(self, product, quantity, source, destination, lot=None):
        """A done internal move now (after the snapshots' as_of)."""
        move = self.env["stock.move"].create(
            {
                "name": f"Move {self.tag}",
                "product_id": product.id,
                "product_uom_qty": quantity,
                "product_uom": product.uom_id.id,
                "location_id": source.id,
                "location_dest_id": destination.id,
            }
        )
        move._action_confirm()
        move._action_assign()
        move.move_line_ids.write({"quantity": quantity, "lot_id": lot.id if lot else False})
        move.picked = True
        move._action_done()
        return move

    # -- the external systems ---------------------------------------------------------------------

    def snapshot(self, event_type, member, items, key, as_of, snapshot_id=None, page=1, pages=1):
        data = {
            "snapshot_id": snapshot_id or f"S-{uuid.uuid4().hex[:8]}",
            "as_of": to_rfc3339(as_of),
            "page": page,
            "pages": pages,
            member: items,
        }
        return self.post_event(event_type, data, key=key)

    def wip_snapshot(self, orders, as_of, **kwargs):
        return self.snapshot(WIP, "orders", orders, self.mes_key, as_of, **kwargs)

    def stock_snapshot(self, items, as_of, **kwargs):
        return self.snapshot(STOCK, "items", items, self.wms_key, as_of, **kwargs)

    def run_of(self, result):
        (record,) = result["records"]
        return self.env["mfg.integration.reconciliation.run"].browse(record["id"])

    def lines_as_tuples(self, run):
        return sorted(
            (line.kind, line.reference, line.measure, line.odoo_value or "", line.system_value or "")
            for line in run.line_ids
        )

    def subscribe(self, system, code):
        event_type = self.env["mfg.integration.event.type"].search([("code", "=", code)])
        return self.make_endpoint(system, "http://127.0.0.1:9/never-called", event_type)

    def sent(self, endpoint):
        return [json.loads(message.payload) for message in self.messages_of(endpoint)]

    @staticmethod
    def hours_ago(hours):
        return fields.Datetime.now() - timedelta(hours=hours)
