"""Planner and support desk: what people do in Odoo's UI, done over JSON-RPC.

The planner confirms a manufacturing order for one plant or the other every two paces (every third one of the
serial-tracked controller, the others of the pump), now and then a purchase order to the supplier and a delivery
of bolts from the North plant (shipped by its 3PL). Support (fault ``support_fix``) looks at Inbound Exceptions,
adds the code mapping the WMS was missing and reprocesses the messages.
"""

import itertools
import json

import requests

from .mfgsim.counterpart import Counterpart, arguments
from .mfgsim.plant import WMS_NEW_ARTICLE

PLANTS = ("SP", "NP")  # the South plant first: its MES is the one whose receiver fails early on
PRODUCT = "FG-PUMP"
SERIAL_PRODUCT = "FG-CTRL"
SERIAL_EVERY = 3  # every third manufacturing order is of the serial-tracked product
PURCHASED = "CMP-HOUSING"
SHIPPED = "CMP-BOLT"
SHIPPING_PLANT = "NP"  # the plant whose deliveries the 3PL ships
RELEASE_EVERY = 2  # ticks (paces) between two manufacturing orders
PURCHASE_EVERY = 4  # manufacturing orders per purchase order
SHIP_EVERY = 3  # manufacturing orders per delivery
SHIFT_ORDERS = 4  # a shift releases at least this many orders, however slow the machine


class OdooRpc:
    """Odoo's external JSON-RPC API (``/jsonrpc``), as any script or BI tool uses it."""

    def __init__(self, url, db, login, password):
        self.url = f"{url}/jsonrpc"
        self.db = db
        self.password = password
        self.ids = itertools.count(1)
        self.uid = self.call("common", "login", db, login, password)
        if not self.uid:
            raise SystemExit(f"planner: login {login!r} refused by {url}")

    def call(self, service, method, *args):
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": next(self.ids),
            "params": {"service": service, "method": method, "args": list(args)},
        }
        answer = requests.post(self.url, json=body, timeout=120).json()
        if "error" in answer:
            raise RuntimeError(answer["error"]["data"]["message"])
        return answer["result"]

    def __call__(self, model, method, *args, **kwargs):
        return self.call("object", "execute_kw", self.db, self.uid, self.password, model, method, list(args), kwargs)


class Planner(Counterpart):
    def __init__(self, args):
        super().__init__(args, "PLANNER")
        self.rpc = OdooRpc(self.hub_url, args.database, args.login, args.password)
        self.plants = itertools.cycle(PLANTS)
        self.ticks = 0
        self.released = 0
        self.over = False
        self.known = {}  # ids of master data, looked up once

    def product(self, code):
        if code not in self.known:
            self.known[code] = self.rpc("product.product", "search", [("default_code", "=", code)], limit=1)[0]
        return self.known[code]

    def bom(self, plant, product):
        """(BoM id, manufacturing operation type id) of the plant's BoM of ``product``."""
        if (plant, product) not in self.known:
            [bom] = self.rpc(
                "mrp.bom",
                "search_read",
                [("product_tmpl_id.default_code", "=", product), ("picking_type_id.warehouse_id.code", "=", plant)],
                fields=["picking_type_id"],
                limit=1,
            )
            self.known[(plant, product)] = bom["id"], bom["picking_type_id"][0]
        return self.known[(plant, product)]

    def tick(self):
        if self.schedule.due("support_fix") and self.fix_exceptions():
            self.schedule.done("support_fix")
        if self.winding_down() and self.released >= SHIFT_ORDERS:
            # A shift: the plants finish what was released. The CI shift waits for this line.
            if not self.over and not self.schedule.due("support_fix"):
                self.over = True
                self.journal.write("shift released", orders=self.released)
            return
        self.ticks += 1
        if self.ticks % RELEASE_EVERY:
            return
        self.release(next(self.plants))
        if self.ticks % (RELEASE_EVERY * PURCHASE_EVERY) == 0:
            self.purchase()
        if self.ticks % (RELEASE_EVERY * SHIP_EVERY) == RELEASE_EVERY:
            self.ship()

    def release(self, plant):
        serial = self.released % SERIAL_EVERY == SERIAL_EVERY - 1
        product = SERIAL_PRODUCT if serial else PRODUCT
        bom, operation_type = self.bom(plant, product)
        quantity = self.random.randint(2, 4) if serial else self.random.randint(4, 12)
        order = self.rpc(
            "mrp.production",
            "create",
            {
                "product_id": self.product(product),
                "product_qty": quantity,
                "bom_id": bom,
                "picking_type_id": operation_type,
            },
        )
        self.rpc("mrp.production", "action_confirm", [order])
        [name] = self.rpc("mrp.production", "read", [order], fields=["name"])
        self.released += 1
        self.journal.write(
            "released", order=name["name"], plant=plant, product=product, quantity=quantity, production_id=order
        )

    def purchase(self):
        [supplier] = self.rpc("res.partner", "search", [("ref", "=", "V-ACME")], limit=1)
        [receipts] = self.rpc(
            "stock.picking.type", "search", [("code", "=", "incoming"), ("warehouse_id.code", "=", "NP")], limit=1
        )
        quantity = self.random.randint(20, 60)
        order = self.rpc(
            "purchase.order",
            "create",
            {
                "partner_id": supplier,
                "picking_type_id": receipts,
                "order_line": [(0, 0, {"product_id": self.product(PURCHASED), "product_qty": quantity})],
            },
        )
        self.rpc("purchase.order", "button_confirm", [order])
        [name] = self.rpc("purchase.order", "read", [order], fields=["name"])
        self.journal.write("purchased", order=name["name"], quantity=quantity)

    def ship(self):
        """A delivery of bolts to a customer, marked as to do: Odoo reserves it and releases it to the 3PL."""
        [delivery] = self.rpc(
            "stock.picking.type",
            "search_read",
            [("code", "=", "outgoing"), ("warehouse_id.code", "=", SHIPPING_PLANT)],
            fields=["default_location_src_id", "default_location_dest_id"],
            limit=1,
        )
        source, destination = delivery["default_location_src_id"][0], delivery["default_location_dest_id"][0]
        quantity = self.random.randint(10, 40)
        picking = self.rpc(
            "stock.picking",
            "create",
            {
                "picking_type_id": delivery["id"],
                "location_id": source,
                "location_dest_id": destination,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": SHIPPED,
                            "product_id": self.product(SHIPPED),
                            "product_uom_qty": quantity,
                            "location_id": source,
                            "location_dest_id": destination,
                        },
                    )
                ],
            },
        )
        self.rpc("stock.picking", "action_confirm", [picking])
        self.rpc("stock.picking", "action_assign", [picking])
        [name] = self.rpc("stock.picking", "read", [picking], fields=["name"])
        self.journal.write("shipping", transfer=name["name"], material=SHIPPED, quantity=quantity)

    def fix_exceptions(self):
        """Map the WMS's new article codes found in Inbound Exceptions to our bolt, then reprocess."""
        failed = self.rpc(
            "mfg.integration.message",
            "search_read",
            [("direction", "=", "inbound"), ("state", "=", "dead"), ("system_id.code", "=", "WMS-NP")],
            fields=["event_id", "payload"],
        )
        prefix, odoo_code = WMS_NEW_ARTICLE
        fixable = [m for m in failed if (json.loads(m["payload"])["data"].get("material") or "").startswith(prefix)]
        codes = sorted({json.loads(m["payload"])["data"]["material"] for m in fixable})
        if not codes:
            return False
        [system] = self.rpc("mfg.integration.system", "search", [("code", "=", "WMS-NP")])
        for code in codes:
            self.rpc(
                "mfg.integration.code.mapping",
                "create",
                {
                    "system_id": system,
                    "kind": "product",
                    "external_code": code,
                    "target_ref": f"product.product,{self.product(odoo_code)}",
                },
            )
        self.rpc("mfg.integration.message", "action_inbound_reprocess", [m["id"] for m in fixable])
        self.journal.write("reprocessed", event_ids=[m["event_id"] for m in fixable], mappings=codes)
        return True


def main():
    args = arguments(
        __doc__.splitlines()[0],
        database={"required": True},
        login={"default": "admin"},
        password={"default": "admin"},
    )
    planner = Planner(args)
    planner.journal.write("started")
    planner.run_until_stopped(planner.tick)


if __name__ == "__main__":
    main()
