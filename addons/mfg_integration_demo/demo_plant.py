"""The demo plant: master data and the four external systems, as an integrator would set them up.

``post_init_hook`` builds it once at install. ``provision_counterparts`` is run at each start of the demo
(``setup/run``) or of the CI shift: it points the endpoints at the simulators' receivers and hands each
simulator its API key and webhook secret through a file outside the repository (mode 0600).
The counterparts' own codes here are those of ``simulators/mfgsim/plant.py`` (their master data).
"""

import json
import os
from datetime import timedelta

from odoo import fields

from odoo.addons.mfg_integration.models.res_company import ADMIN_NETWORKS_PARAM

# Demo keys open the integration API only (see README, Security).
API_KEY_SCOPE = "mfg_integration"
API_KEY_NAME = "demo simulator"
API_KEY_DAYS = 30
RECEIVER_PORTS = {"MES-NP": 0, "MES-SP": 1, "WMS-NP": 2, "SUPPLIER": 3, "QUALITY": 4}  # offsets from a base port

RELEASED = "mfg.production_order.released.v1"
COMPLETED = "mfg.production_order.completed.v1"
CANCELLED = "mfg.production_order.cancelled.v1"
TRANSFER_RELEASED = "mfg.inventory.transfer_released.v1"
TRANSFER_DONE = "mfg.inventory.transfer_done.v1"
# The 3PL picks and ships its plant's deliveries only (its movements and counts it reports on its own).
SUBSCRIPTION_FILTERS = {TRANSFER_RELEASED: "[('picking_type_code', '=', 'outgoing')]"}
MES_IN = (
    "mfg.work_order.progress_reported.v1",
    "mfg.production.performance_reported.v1",
    "mfg.equipment.downtime_reported.v1",
    "mfg.integration.code_mapping.reported.v1",
)
WMS_IN = ("mfg.inventory.movement_reported.v1", "mfg.inventory.count_reported.v1", "mfg.shipment.dispatched.v1")
PO_OUT = ("mfg.purchase_order.confirmed.v1", "mfg.purchase_order.changed.v1", "mfg.purchase_order.cancelled.v1")
SUPPLIER_IN = ("mfg.supplier.order_acknowledged.v1", "mfg.supplier.shipment_notified.v1")
QUALITY_IN = ("mfg.quality.result_reported.v1", "mfg.quality.hold_requested.v1", "mfg.quality.hold_released.v1")

PRODUCTS = {  # Odoo code: (name, tracking)
    "FG-PUMP": ("Centrifugal pump", "lot"),
    "FG-CTRL": ("Pump controller", "serial"),
    "CMP-HOUSING": ("Pump housing", "lot"),
    "CMP-BOLT": ("Bolt M8", "none"),
    "CMP-PCB": ("Controller board", "none"),
    "PKG-BOX": ("Shipping box", "none"),
}
BOMS = {  # finished product: (components per unit, operation)
    "FG-PUMP": ({"CMP-HOUSING": 1, "CMP-BOLT": 4}, "Assemble"),
    "FG-CTRL": ({"CMP-PCB": 1}, "Solder and test"),
}
PLANTS = {  # warehouse code: (name, work center code, line-side housing lot)
    "NP": ("North Plant", "NP-ASSY", "HSG-NP-0001"),
    "SP": ("South Plant", "SP-ASSY", "HSG-SP-0001"),
}
OPENING_STOCK = {"CMP-HOUSING": 100000, "CMP-BOLT": 100000, "CMP-PCB": 10000}
MAPPINGS = {  # system: [(kind, external code, Odoo code)]
    "MES-NP": [
        ("product", "A-1000", "FG-PUMP"),
        ("product", "A-2001", "CMP-HOUSING"),
        ("product", "A-2002", "CMP-BOLT"),
        ("product", "A-1100", "FG-CTRL"),
        ("product", "A-2101", "CMP-PCB"),
        ("workcenter", "L1-ASSY", "NP-ASSY"),
        ("reason", "BRK", "Equipment Failure"),
    ],
    "MES-SP": [
        ("product", "S-PUMP", "FG-PUMP"),
        ("product", "S-HSG", "CMP-HOUSING"),
        ("product", "S-BOLT", "CMP-BOLT"),
        ("product", "S-CTRL", "FG-CTRL"),
        ("product", "S-PCB", "CMP-PCB"),
        ("workcenter", "SUED-MONT", "SP-ASSY"),
        ("reason", "STOER", "Equipment Failure"),
    ],
    "WMS-NP": [
        ("product", "W-BOLT", "CMP-BOLT"),
        ("product", "W-BOX", "PKG-BOX"),
        ("location", "BIN-A1", "NP/Stock"),
        ("location", "LINE-1", "NP/Stock/Line 1"),
    ],
    "QUALITY": [("product", "Q-PUMP", "FG-PUMP")],
}


def post_init_hook(env):
    company = env.ref("base.main_company")
    company.write({"name": "Demo Pumps Inc.", "mfg_hold_on_failed_inspection": True})
    env["res.config.settings"].create(
        {"group_mrp_routings": True, "group_stock_multi_locations": True, "group_stock_production_lot": True}
    ).execute()
    products = _products(env)
    warehouses = _plants(env, products)
    systems = _systems(env, warehouses)
    _supplier(env, systems["SUPPLIER"], products)
    _quality_test(env)
    _mappings(env, systems, products)
    _slas(env, systems)


def _products(env):
    products = {}
    for code, (name, tracking) in PRODUCTS.items():
        products[code] = env["product.product"].create(
            {"name": name, "default_code": code, "is_storable": True, "tracking": tracking}
        )
    return products


def _plants(env, products):
    warehouses = {}
    Quant = env["stock.quant"]
    for code, (name, work_center_code, housing_lot) in PLANTS.items():
        warehouse = env["stock.warehouse"].create({"name": name, "code": code})
        warehouses[code] = warehouse
        stock = warehouse.lot_stock_id
        env["stock.location"].create({"name": "Line 1", "location_id": stock.id})
        work_center = env["mrp.workcenter"].create(
            {"name": f"{name} assembly", "code": work_center_code, "company_id": warehouse.company_id.id}
        )
        for finished, (components, operation) in BOMS.items():
            env["mrp.bom"].create(
                {
                    "product_tmpl_id": products[finished].product_tmpl_id.id,
                    "product_qty": 1,
                    "picking_type_id": warehouse.manu_type_id.id,
                    "bom_line_ids": [
                        (0, 0, {"product_id": products[c].id, "product_qty": qty}) for c, qty in components.items()
                    ],
                    "operation_ids": [(0, 0, {"name": operation, "workcenter_id": work_center.id, "time_cycle": 10})],
                }
            )
        for product_code, quantity in OPENING_STOCK.items():
            product = products[product_code]
            lot = None
            if product.tracking == "lot":
                lot = env["stock.lot"].create({"name": housing_lot, "product_id": product.id})
            Quant._update_available_quantity(product, stock, quantity, lot_id=lot)
    Quant._update_available_quantity(products["PKG-BOX"], warehouses["NP"].lot_stock_id, 200)
    return warehouses


def _event_types(env, codes):
    return env["mfg.integration.event.type"].search([("code", "in", list(codes))])


def _systems(env, warehouses):
    admin = env.ref("base.user_admin")
    specs = [
        # code, name, kind, plant, inbound types, outbound subscriptions
        (
            "MES-NP",
            "MES North Plant",
            "mes",
            "NP",
            MES_IN,
            (RELEASED, COMPLETED, CANCELLED),
        ),
        (
            "MES-SP",
            "MES South Plant",
            "mes",
            "SP",
            MES_IN,
            (RELEASED, COMPLETED, CANCELLED),
        ),
        (
            "WMS-NP",
            "3PL warehouse (North)",
            "wms",
            "NP",
            WMS_IN,
            (TRANSFER_RELEASED, TRANSFER_DONE),
        ),
        (
            "SUPPLIER",
            "Acme supplier portal",
            "supplier",
            None,
            SUPPLIER_IN,
            PO_OUT,
        ),
        (
            "QUALITY",
            "Quality station",
            "qms",
            None,
            QUALITY_IN,
            (COMPLETED,),
        ),
    ]
    systems = {}
    for port, (code, name, kind, plant, inbound, outbound) in enumerate(specs, start=8170):
        system = env["mfg.integration.system"].create(
            {
                "name": name,
                "code": code,
                "kind": kind,
                "warehouse_id": warehouses[plant].id if plant else False,
                "responsible_user_id": admin.id,
                "inbound_event_type_ids": [(6, 0, _event_types(env, inbound).ids)],
            }
        )
        env["mfg.integration.endpoint"].create(
            {
                "name": f"{name} webhook",
                "system_id": system.id,
                # Replaced by provision_counterparts with the receiver's real port.
                "url": f"http://127.0.0.1:{port}/hook",
                "timeout": 10,
                "backoff_base": 2,
                "backoff_cap": 30,
                "max_attempts": 12,
                "circuit_threshold": 5,
                "circuit_cooldown": 15,
                "subscription_ids": [
                    (0, 0, {"event_type_id": t.id, "filter_domain": SUBSCRIPTION_FILTERS.get(t.code, "[]")})
                    for t in _event_types(env, outbound)
                ],
            }
        )
        # The technical user as the README creates it (the system form's Technical User button): no e-mail
        # address, exactly the rights its allowed inbound events declare.
        system.action_create_technical_user()
        systems[code] = system
    return systems


def _supplier(env, system, products):
    supplier = env["res.partner"].create(
        {"name": "Acme Castings", "ref": "V-ACME", "is_company": True, "mfg_system_id": system.id}
    )
    env["product.supplierinfo"].create(
        {
            "partner_id": supplier.id,
            "product_tmpl_id": products["CMP-HOUSING"].product_tmpl_id.id,
            "product_code": "AC-HSG-77",
            "price": 42.0,
        }
    )


def _quality_test(env):
    env["qc.test"].create(
        {
            "name": "Burst pressure test",
            "mfg_code": "PRESS",
            "test_lines": [
                (
                    0,
                    0,
                    {
                        "name": "Burst pressure",
                        "mfg_code": "BURST_BAR",
                        "type": "quantitative",
                        "min_value": 10,
                        "max_value": 20,
                        "uom_id": env.ref("uom.product_uom_unit").id,
                    },
                )
            ],
        }
    )


def _mapping_target(env, kind, code, products):
    if kind == "product":
        return products[code]
    if kind == "workcenter":
        return env["mrp.workcenter"].search([("code", "=", code)], limit=1)
    if kind == "reason":
        return env["mrp.workcenter.productivity.loss"].search([("name", "=", code)], limit=1)
    return env["stock.location"].search([("complete_name", "=", code)], limit=1)


def _mappings(env, systems, products):
    for system_code, mappings in MAPPINGS.items():
        for kind, external, odoo_code in mappings:
            target = _mapping_target(env, kind, odoo_code, products)
            env["mfg.integration.code.mapping"].create(
                {
                    "system_id": systems[system_code].id,
                    "kind": kind,
                    "external_code": external,
                    "target_ref": f"{target._name},{target.id}",
                }
            )


def _slas(env, systems):
    Sla = env["mfg.integration.sla"]
    for name, event_type, condition, minutes, system in (
        ("Production report applied within 5 min", "mfg.production.performance_reported.v1", "unprocessed", 5, None),
        ("Job order delivered to the MES within 5 min", RELEASED, "unprocessed", 5, None),
        ("WMS movement never failed", "mfg.inventory.movement_reported.v1", "failed", 0, "WMS-NP"),
        ("ASN applied within 5 min", "mfg.supplier.shipment_notified.v1", "unprocessed", 5, "SUPPLIER"),
    ):
        Sla.create(
            {
                "name": name,
                "event_type_id": _event_types(env, [event_type]).id,
                "condition": condition,
                "max_age_minutes": minutes,
                "system_id": systems[system].id if system else False,
            }
        )


def _api_key(user, name):
    """The one place API keys are made: same scope for every demo key."""
    expiration = fields.Datetime.now() + timedelta(days=API_KEY_DAYS)
    return user.env["res.users.apikeys"].with_user(user)._generate(API_KEY_SCOPE, name, expiration)


def provision_counterparts(env, credentials_path, hub_url, base_port):
    """Point the endpoints at the simulators (127.0.0.1:``base_port`` + offset), renew their API keys,
    and write what each simulator needs to ``credentials_path`` (mode 0600; nothing is logged)."""
    # The demo's counterparts run on this machine: its database delivers to loopback (an administrator's setting).
    env["ir.config_parameter"].sudo().set_param(ADMIN_NETWORKS_PARAM, "127.0.0.0/8, ::1/128")
    systems = {}
    for system in env["mfg.integration.system"].search([("code", "in", list(RECEIVER_PORTS))]):
        port = base_port + RECEIVER_PORTS[system.code]
        [endpoint] = system.endpoint_ids
        endpoint.url = f"http://127.0.0.1:{port}/hook"
        [user] = system.user_ids
        # sudo: the demo revokes its own earlier keys of its own technical users.
        env["res.users.apikeys"].sudo().search([("user_id", "=", user.id), ("name", "=", API_KEY_NAME)])._remove()
        systems[system.code] = {
            "api_key": _api_key(user, API_KEY_NAME),
            "webhook_secret": endpoint._signing_secrets()[0],
            "receiver_port": port,
            "source": f"urn:demo:{system.code.lower()}",
        }
    descriptor = os.open(credentials_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump({"hub_url": hub_url, "systems": systems}, file, indent=1)
