"""The supplier and quality loops as a supplier portal and a QMS see them: a real Odoo server
process, technical users set up as the README says (no e-mail address, only the documented
rights), their API keys and HTTP; Odoo's events arrive signed at their own receivers."""

import json
import time
import uuid
from datetime import datetime, timezone

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from simulators.mfgsim.client import cloud_event
from simulators.mfgsim.scripted_receiver import Receiver

API = "/api/mfg/v1"
DELIVERY_TIMEOUT = 90  # seconds for the server's dispatcher cron to deliver (a wait, not a speed assertion)

# What an administrator does in the forms (README, "Supplier loop" and "Quality loop"), as a script.
SETUP = """
import json
from datetime import timedelta
from odoo import fields
tag = {tag!r}
EventType = env["mfg.integration.event.type"]
def types(*codes):
    return EventType.search([("code", "in", codes)])
def technical_user(system):
    # As the README creates it: Technical User on the system form (no e-mail, the rights its allowed types
    # declare), then New API Key (scope mfg_integration).
    user = system.action_create_technical_user()
    assert not user.email
    wizard = env["mfg.integration.api.key.wizard"].create({{
        "system_id": system.id, "user_id": user.id, "name": "loops",
        "expiration_date": fields.Datetime.now() + timedelta(days=1),
    }})
    return wizard.action_generate()["context"]["default_key"]
def endpoint(system, url, codes):
    return env["mfg.integration.endpoint"].create({{
        "name": system.code, "system_id": system.id, "url": url,
        "subscription_ids": [(0, 0, {{"event_type_id": t.id}}) for t in types(*codes)],
    }})
out = {{}}

# Supplier portal
portal = env["mfg.integration.system"].create({{
    "name": "ACME portal " + tag, "code": "ACME-" + tag, "kind": "supplier",
    "inbound_event_type_ids": [(6, 0, types("mfg.supplier.order_acknowledged.v1",
                                            "mfg.supplier.shipment_notified.v1").ids)],
}})
out["portal_key"] = technical_user(portal)
out["portal_secret"] = endpoint(portal, {portal_url!r}, ("mfg.purchase_order.confirmed.v1",
    "mfg.purchase_order.changed.v1", "mfg.purchase_order.cancelled.v1"))._signing_secrets()[0]
supplier = env["res.partner"].create({{"name": "ACME " + tag, "is_company": True, "mfg_system_id": portal.id}})
bolt = env["product.product"].create({{
    "name": "Bolt " + tag, "default_code": "BOLT-" + tag, "is_storable": True, "tracking": "lot",
    "seller_ids": [(0, 0, {{"partner_id": supplier.id, "product_code": "ACME-" + tag + "-778"}})],
}})
nut = env["product.product"].create({{"name": "Nut " + tag, "default_code": "NUT-" + tag, "is_storable": True}})
orders = env["purchase.order"]
for _name in ("changed", "accepted", "rejected"):
    orders |= env["purchase.order"].create({{
        "partner_id": supplier.id, "user_id": env.ref("base.user_admin").id,
        "order_line": [(0, 0, {{"product_id": bolt.id, "product_qty": 100, "price_unit": 0.5}}),
                       (0, 0, {{"product_id": nut.id, "product_qty": 50, "price_unit": 0.2}})],
    }})
orders.button_confirm()
out["orders"] = orders.mapped("name")

# Quality system
qms = env["mfg.integration.system"].create({{
    "name": "QMS " + tag, "code": "QMS-" + tag, "kind": "qms",
    "inbound_event_type_ids": [(6, 0, types("mfg.quality.result_reported.v1", "mfg.quality.hold_requested.v1",
                                            "mfg.quality.hold_released.v1").ids)],
}})
out["qms_key"] = technical_user(qms)
out["qms_secret"] = endpoint(qms, {qms_url!r}, ("mfg.quality.inspection_completed.v1",
    "mfg.quality.lot.hold_placed.v1", "mfg.quality.lot.hold_released.v1"))._signing_secrets()[0]
env.company.mfg_hold_on_failed_inspection = True
resin = env["product.product"].create({{
    "name": "Resin " + tag, "default_code": "RES-" + tag, "is_storable": True, "tracking": "lot"}})
lot = env["stock.lot"].create({{"name": "R-" + tag, "product_id": resin.id}})
warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
env["stock.quant"]._update_available_quantity(resin, warehouse.lot_stock_id, 10, lot_id=lot)
env["qc.test"].create({{
    "name": "Viscosity " + tag, "mfg_code": "VISC-" + tag,
    "test_lines": [(0, 0, {{"name": "Viscosity", "mfg_code": "VISC_MPAS", "type": "quantitative",
                           "min_value": 100, "max_value": 200, "uom_id": env.ref("uom.product_uom_unit").id}})],
}})
print("RESULT" + json.dumps(out))
"""

CHECK_SUPPLIER = """
import json
bot = env.ref("base.partner_root")
out = {{}}
for order in env["purchase.order"].search([("name", "in", {orders!r})]):
    out[order.name] = {{
        "ack": order.mfg_ack_state,
        "activities": [(a.user_id.login, a.summary) for a in order.activity_ids],
        "bot_notes": len((order.message_ids | order.picking_ids.message_ids).filtered(
            lambda m: m.author_id == bot and "reports:" in m.body)),
        "operations": sorted((l.product_id.default_code, l.quantity, l.lot_id.name or "", l.mfg_asn_number or "")
                             for l in order.picking_ids.move_line_ids),
        "asn_numbers": order.picking_ids.mapped("mfg_asn_numbers"),
    }}
print("RESULT" + json.dumps(out))
"""

CHECK_QUALITY = """
import json
lot = env["stock.lot"].search([("name", "=", {lot!r})])
bot = env.ref("base.partner_root")
sent = env["mfg.integration.message"].search([("system_id.code", "=", {system!r}), ("direction", "=", "outbound")])
print("RESULT" + json.dumps({{
    "on_hold": lot.mfg_on_hold,
    "holds": [(h.state, h.origin, h.release_reason or "", h.release_system_id.code or "") for h in lot.mfg_hold_ids],
    "bot_notes": len(lot.message_ids.filtered(lambda m: m.author_id == bot and "reports:" in m.body)),
    "sent": sorted((m.event_type_id.code, m.state) for m in sent),
}}))
"""


def shell_result(odoo_server, code):
    out = odoo_server.odoo_shell(code)
    line = next(line for line in out.splitlines() if line.startswith("RESULT"))
    return json.loads(line[len("RESULT") :])


@pytest.fixture(scope="module")
def loops(odoo_server):
    portal, qms = Receiver().start(), Receiver().start()
    tag = uuid.uuid4().hex[:6].upper()
    try:
        setup = shell_result(odoo_server, SETUP.format(tag=tag, portal_url=portal.url, qms_url=qms.url))
        yield dict(setup, tag=tag, portal=portal, qms=qms)
    finally:
        portal.stop()
        qms.stop()


def post(odoo_server, key, event_type, data, source):
    event = cloud_event(event_type, data, source, datetime(2030, 1, 5, 10, 0, tzinfo=timezone.utc))
    return requests.post(
        odoo_server.url(f"{API}/events"),
        data=json.dumps(event),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/cloudevents+json"},
        timeout=60,
    )


def wait_for(receiver, event_type, count=1):
    """The signed requests of ``event_type`` the receiver got, once there are ``count`` of them."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while True:
        requests_of_type = [r for r in receiver.received if r.json()["type"] == event_type]
        if len(requests_of_type) >= count or time.monotonic() > deadline:
            return requests_of_type
        time.sleep(0.5)


def test_supplier_portal_acknowledges_and_announces_shipments(odoo_server, loops):
    tag, key = loops["tag"], loops["portal_key"]
    changed, accepted, rejected = loops["orders"]
    source = f"urn:supplier:acme-{tag}"

    # The portal hears of its three confirmed orders, signed with its endpoint's secret.
    confirmed = wait_for(loops["portal"], "mfg.purchase_order.confirmed.v1", count=3)
    assert sorted(r.json()["subject"] for r in confirmed) == sorted(loops["orders"])
    for request in confirmed:
        Webhook(loops["portal_secret"]).verify(request.body, request.headers)
    assert [line["material"] for line in confirmed[0].json()["data"]["lines"]] == [f"ACME-{tag}-778", f"NUT-{tag}"]

    def ack(order, status, **data):
        return post(
            odoo_server,
            key,
            "mfg.supplier.order_acknowledged.v1",
            dict(data, purchase_order=order, status=status),
            source,
        )

    assert ack(accepted, "accepted", note="Thanks").status_code == 200
    assert ack(rejected, "rejected", note="Discontinued").status_code == 200
    response = ack(
        changed,
        "changed",
        note="Nuts: only 40",
        lines=[
            {"material": f"ACME-{tag}-778", "quantity": 100, "promised_date": "2030-03-10T08:00:00Z"},
            {"material": f"NUT-{tag}", "quantity": 40, "promised_date": "2030-03-12"},
        ],
    )
    assert response.status_code == 200, response.text

    def asn(number, lines):
        data = {
            "purchase_order": changed,
            "asn_number": number,
            "expected_arrival": "2030-02-01T07:00:00Z",
            "lines": lines,
        }
        return post(odoo_server, key, "mfg.supplier.shipment_notified.v1", data, source)

    assert asn("ASN-1", [{"material": f"ACME-{tag}-778", "quantity": 60, "lot": f"L-{tag}-1"}]).status_code == 200
    response = asn("ASN-2", [{"material": f"BOLT-{tag}", "quantity": 41, "lot": f"L-{tag}-2"}])
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["path"] == "/data/lines/0/quantity"
    response = asn(
        "ASN-2",
        [{"material": f"BOLT-{tag}", "quantity": 40, "lot": f"L-{tag}-2"}, {"material": f"NUT-{tag}", "quantity": 20}],
    )
    assert response.status_code == 200, response.text

    state = shell_result(odoo_server, CHECK_SUPPLIER.format(orders=loops["orders"]))
    assert state[accepted]["ack"] == "accepted"
    assert state[accepted]["activities"] == []
    assert state[rejected]["ack"] == "rejected"
    assert [summary for _login, summary in state[rejected]["activities"]] == [f"Supplier rejected {rejected}"]
    assert state[changed]["ack"] == "changed"
    assert [summary for _login, summary in state[changed]["activities"]] == [f"Supplier quantities differ on {changed}"]
    # Every answer is noted in the portal's name, by OdooBot: the acknowledgements and the two notices.
    assert [state[name]["bot_notes"] for name in (accepted, rejected, changed)] == [1, 1, 3]
    assert state[changed]["operations"] == [
        [f"BOLT-{tag}", 40.0, f"L-{tag}-2", "ASN-2"],
        [f"BOLT-{tag}", 60.0, f"L-{tag}-1", "ASN-1"],
        [f"NUT-{tag}", 20.0, "", "ASN-2"],
    ]
    assert state[changed]["asn_numbers"] == ["ASN-1, ASN-2"]


def test_qms_failed_result_holds_the_lot_and_is_told_then_releases_it(odoo_server, loops):
    tag, key = loops["tag"], loops["qms_key"]
    source = f"urn:qms:{tag}"
    result = {
        "subject": {"lot": f"R-{tag}", "material": f"RES-{tag}"},
        "test": f"VISC-{tag}",
        "results": [{"characteristic": "VISC_MPAS", "value": 250, "ok": False}],
        "outcome": "fail",
        "inspector": "Quinn Lab",
        "occurred_at": "2030-01-05T09:30:00Z",
    }
    response = post(odoo_server, key, "mfg.quality.result_reported.v1", result, source)
    assert response.status_code == 200, response.text
    answer = response.json()["result"]
    inspection = answer["inspection"]["name"]
    # The answer says what the result caused: the inspection failed on both counts, and the hold it placed.
    assert answer["inspection"] == {"name": inspection, "outcome": "fail", "odoo_outcome": "fail"}
    assert answer["hold"]["lot"] == f"R-{tag}"
    assert answer["hold"]["placed_by_this_result"] is True
    assert inspection in answer["hold"]["reason"]

    # The hold is Odoo's decision: the QMS receives it, signed.
    [placed] = wait_for(loops["qms"], "mfg.quality.lot.hold_placed.v1")
    Webhook(loops["qms_secret"]).verify(placed.body, placed.headers)
    event = placed.json()
    assert (event["subject"], event["data"]["lot"], event["data"]["origin"]) == (f"R-{tag}", f"R-{tag}", "inspection")
    assert event["data"]["inspection"] == inspection

    release = {
        "lot": f"R-{tag}",
        "material": f"RES-{tag}",
        "reason": "Retest passed",
        "occurred_at": "2030-01-06T08:00:00Z",
    }
    response = post(odoo_server, key, "mfg.quality.hold_released.v1", release, source)
    assert response.status_code == 200, response.text

    state = shell_result(odoo_server, CHECK_QUALITY.format(lot=f"R-{tag}", system=f"QMS-{tag}"))
    assert state["on_hold"] is False
    assert state["holds"] == [["released", "inspection", "Retest passed", f"QMS-{tag}"]]
    assert state["bot_notes"] == 2, "hold and release are noted in the QMS's name"
    # What the QMS reported itself (the inspection, the release) is not echoed back; the hold is.
    assert [code for code, _state in state["sent"]] == ["mfg.quality.lot.hold_placed.v1"]
    assert [r.json()["type"] for r in loops["qms"].received] == ["mfg.quality.lot.hold_placed.v1"]
