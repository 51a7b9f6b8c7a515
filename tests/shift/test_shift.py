"""Invariants of a compressed shift of the demo plant, from Odoo's data (JSON-RPC as admin) and the simulators' logs.

Injected faults (simulators/mfgsim/counterpart.py FAULTS): the South MES's receiver answers 503 for a while; the
WMS once reports an article without mapping (support adds it and reprocesses); the North MES is offline for a
while and flushes its buffer through /events/batch; the North MES posts one event twice.
The planner also confirms deliveries of bolts from the North plant, which its 3PL ships; every third order is of the
serial-tracked controller, reported one unit per serial, sometimes without ``consumed`` (per BOM).
"""

import json
from collections import Counter, defaultdict

from simulators.mfgsim.plant import LINE_SIDE_LOTS, MES_ARTICLES, WMS_ARTICLES, WMS_NEW_ARTICLE

RELEASED = "mfg.production_order.released.v1"
PERFORMANCE = "mfg.production.performance_reported.v1"
TRANSFER_RELEASED = "mfg.inventory.transfer_released.v1"
DISPATCHED = "mfg.shipment.dispatched.v1"
# Opening stock per plant (housings in the plant's line-side lot) and BoMs per unit, as the demo addon sets them up.
OPENING = {"CMP-HOUSING": 100000, "CMP-BOLT": 100000, "CMP-PCB": 10000}
BOMS = {"FG-PUMP": {"CMP-HOUSING": 1, "CMP-BOLT": 4}, "FG-CTRL": {"CMP-PCB": 1}}
PLANTS = ("NP", "SP")
SYSTEMS = ("MES-NP", "MES-SP", "WMS-NP", "SUPPLIER", "QUALITY")


def applied_events(shift, system):
    """The events a counterpart had applied (200), posted one by one or flushed in a batch, by event id."""
    entries = shift.journal(system)
    sent = {e["event_id"]: e for e in entries if e["what"] in ("posted", "buffered")}
    applied = {e["event_id"]: sent[e["event_id"]] for e in entries if e["what"] == "posted" and e["status"] == 200}
    for flush in (e for e in entries if e["what"] == "flushed"):
        applied.update({r["id"]: sent[r["id"]] for r in flush["results"] if r["status"] == 200})
    return applied


def inbound_messages(shift, system):
    return shift.read(
        "mfg.integration.message",
        [("direction", "=", "inbound"), ("system_id.code", "=", system)],
        ["event_id", "state", "payload", "subject"],
        order="id",
    )


def test_every_released_order_reached_its_mes_once(shift):
    released = {e["order"]: e["plant"] for e in shift.journal("PLANNER") if e["what"] == "released"}
    assert len(released) >= 4 and set(released.values()) == set(PLANTS), "a steady flow of orders to both plants"
    for plant in PLANTS:
        messages = shift.read(
            "mfg.integration.message",
            [
                ("direction", "=", "outbound"),
                ("event_type_id.code", "=", RELEASED),
                ("system_id.code", "=", f"MES-{plant}"),
            ],
            ["event_id", "subject", "state"],
        )
        assert {m["subject"] for m in messages} == {o for o, p in released.items() if p == plant}
        assert {m["state"] for m in messages} == {"done"}
        received = Counter(
            e["webhook_id"]
            for e in shift.journal(f"MES-{plant}")
            if e["what"] == "received" and e["status"] == 200 and e["type"] == RELEASED
        )
        assert received == Counter(m["event_id"] for m in messages), "each job order once per webhook-id"
        assert not [e for e in shift.journal(f"MES-{plant}") if e["what"] == "rejected"], "every signature valid"
    orders = shift.read(
        "mrp.production", [("name", "in", list(released))], ["name", "state", "product_qty", "qty_produced"]
    )
    assert {o["name"]: (o["state"], o["qty_produced"]) for o in orders} == {
        o["name"]: ("done", o["product_qty"]) for o in orders
    }, "the MES closed every order with its full quantity"


def test_every_mes_report_applied_once_in_event_time_order(shift):
    for plant in PLANTS:
        system = f"MES-{plant}"
        applied = applied_events(shift, system)
        messages = inbound_messages(shift, system)
        assert Counter(m["event_id"] for m in messages) == Counter(list(applied)), "one message per event, no other"
        assert {m["state"] for m in messages} == {"done"}
        times = defaultdict(list)
        for message in messages:  # in the order Odoo applied them
            event = json.loads(message["payload"])
            order = event["data"].get("production_order")
            if order:
                times[order].append(event["time"])
        assert all(t == sorted(t) for t in times.values()), "reports applied in event-time order per order"


def produced_reports(shift, plant):
    """(Odoo product code, report data) of every production report the plant's MES had applied."""
    articles = MES_ARTICLES[plant]
    products = {e["order"]: articles[e["article"]] for e in shift.journal(f"MES-{plant}") if e["what"] == "job"}
    return [
        (products[event["data"]["production_order"]], event["data"])
        for event in applied_events(shift, f"MES-{plant}").values()
        if event["type"] == PERFORMANCE
    ]


def dispatched_shipments(shift):
    return [e["data"] for e in applied_events(shift, "WMS-NP").values() if e["type"] == DISPATCHED]


def test_stock_is_what_the_reports_imply(shift):
    quants = shift.read(
        "stock.quant", [("location_id.usage", "=", "internal")], ["product_id", "lot_id", "quantity", "warehouse_id"]
    )
    on_hand = defaultdict(float)
    for quant in quants:
        product = quant["product_id"][1].split("]")[0].lstrip("[")
        on_hand[(product, quant["lot_id"] and quant["lot_id"][1], quant["warehouse_id"][1])] += quant["quantity"]
    expected = defaultdict(float)
    warehouses = {"NP": "North Plant", "SP": "South Plant"}
    per_bom = 0
    for plant in PLANTS:
        articles = MES_ARTICLES[plant]
        warehouse = warehouses[plant]
        for product, quantity in OPENING.items():
            expected[(product, LINE_SIDE_LOTS[plant].get(product, False), warehouse)] += quantity
        for product, data in produced_reports(shift, plant):
            expected[(product, data["lot"], warehouse)] += data["quantity"]
            if "consumed" not in data:  # per BOM (the MES does so on untracked components only)
                per_bom += 1
                for component, per_unit in BOMS[product].items():
                    expected[(component, False, warehouse)] -= per_unit * data["quantity"]
            for line in data.get("consumed", []) + data.get("scrap", []):
                expected[(articles[line["material"]], line.get("lot", False), warehouse)] -= line["quantity"]
    assert per_bom, "some reports left the consumption to the BOM"
    shipments = dispatched_shipments(shift)
    assert shipments, "the 3PL shipped deliveries"
    for shipment in shipments:
        for line in shipment["lines"]:
            expected[(WMS_ARTICLES[line["material"]], False, "North Plant")] -= line["quantity"]
    counts = [e for e in applied_events(shift, "WMS-NP").values() if e["type"].endswith("count_reported.v1")]
    assert counts, "the WMS counted"
    expected[("PKG-BOX", False, "North Plant")] = counts[-1]["data"]["lines"][0]["counted_quantity"]
    observed = {key: on_hand[key] for key in expected}
    assert observed == {key: round(value, 4) for key, value in expected.items()}


def test_serial_numbers_produced_are_the_reported_ones(shift):
    reported = Counter()
    for plant in PLANTS:
        for product, data in produced_reports(shift, plant):
            if product == "FG-CTRL":
                assert data["quantity"] == 1, "one unit per serial"
                reported[data["lot"]] += 1
    assert reported and set(reported.values()) == {1}, "controllers made, each serial reported once"
    lots = shift.read("stock.lot", [("product_id.default_code", "=", "FG-CTRL")], ["name", "product_qty"])
    assert {lot["name"]: lot["product_qty"] for lot in lots} == dict.fromkeys(reported, 1.0)
    closes = Counter(
        data["production_order"]
        for plant in PLANTS
        for product, data in produced_reports(shift, plant)
        if product == "FG-CTRL" and data["close"]
    )
    released = [e["order"] for e in shift.journal("PLANNER") if e["what"] == "released" and e["product"] == "FG-CTRL"]
    assert closes == Counter(released), "each controller order closed once, by its last serial"


def test_every_released_delivery_dispatched_once(shift):
    planned = {e["transfer"]: e["quantity"] for e in shift.journal("PLANNER") if e["what"] == "shipping"}
    assert planned, "the planner confirmed deliveries"
    messages = shift.read(
        "mfg.integration.message",
        [
            ("direction", "=", "outbound"),
            ("event_type_id.code", "=", TRANSFER_RELEASED),
            ("system_id.code", "=", "WMS-NP"),
        ],
        ["event_id", "subject", "state"],
    )
    assert sorted(m["subject"] for m in messages) == sorted(planned), "each delivery released once to the 3PL"
    received = Counter(
        e["webhook_id"]
        for e in shift.journal("WMS-NP")
        if e["what"] == "received" and e["status"] == 200 and e["type"] == TRANSFER_RELEASED
    )
    assert received == Counter(m["event_id"] for m in messages), "each released transfer received once"
    dispatched = Counter(shipment["transfer"] for shipment in dispatched_shipments(shift))
    assert dispatched == Counter(list(planned)), "each released delivery dispatched exactly once"
    pickings = shift.read("stock.picking", [("name", "in", list(planned))], ["name", "state", "backorder_ids"])
    assert {(p["name"], p["state"], bool(p["backorder_ids"])) for p in pickings} == {
        (name, "done", False) for name in planned
    }
    moves = shift.read("stock.move", [("picking_id.name", "in", list(planned))], ["reference", "quantity"])
    assert {m["reference"]: m["quantity"] for m in moves} == planned, "shipped in full"


def test_injected_faults_and_nothing_else(shift):
    posts = [e for s in SYSTEMS for e in shift.journal(s) if e["what"] in ("posted", "unanswered")]
    failed = [e for e in posts if e.get("status") != 200]
    unknown = [e for e in posts if e.get("note") == "unknown_article"]
    assert len(unknown) == 1 and unknown[0]["data"]["material"] == WMS_NEW_ARTICLE[0]
    assert failed == unknown, "the unknown article is the only refused event"
    assert unknown[0]["status"] == 422 and WMS_NEW_ARTICLE[0] in unknown[0]["detail"]
    [fix] = [e for e in shift.journal("PLANNER") if e["what"] == "reprocessed"]
    assert fix["event_ids"] == [unknown[0]["event_id"]]
    [message] = [m for m in inbound_messages(shift, "WMS-NP") if m["event_id"] == unknown[0]["event_id"]]
    assert message["state"] == "done", "reprocessed after support added the mapping"

    # The receiver's 503s are the only failed deliveries, and each was retried until delivered.
    refusals = [e for e in shift.journal("MES-SP") if e["what"] == "received" and e["status"] == 503]
    assert refusals, "the South MES's outage hit some deliveries"
    attempts = shift.read(
        "mfg.integration.attempt",
        [("message_id.direction", "=", "outbound"), ("http_status", "not in", [200, 201, 202, 204])],
        ["http_status", "message_id"],
    )
    assert sorted(a["http_status"] for a in attempts) == [503] * len(refusals)
    retried = shift.read(
        "mfg.integration.message", [("id", "in", [a["message_id"][0] for a in attempts])], ["state", "system_id"]
    )
    assert {(m["state"], m["system_id"][1]) for m in retried} == {("done", "MES South Plant")}

    # The duplicate post is answered as a replay; the North MES's outage went through the batch endpoint.
    [duplicate] = [e for e in posts if e.get("note") == "duplicate_post"]
    assert duplicate["replayed"]
    assert len([e for e in posts if e["event_id"] == duplicate["event_id"]]) == 2
    north = shift.journal("MES-NP")
    buffered = [e["event_id"] for e in north if e["what"] == "buffered"]
    flushed = [r["id"] for e in north if e["what"] == "flushed" for r in e["results"] if r["status"] == 200]
    assert buffered and flushed == buffered, "the buffer flushed once, oldest first, every event applied"


def test_no_dead_letter_and_nothing_pending(shift):
    states = shift.rpc("mfg.integration.message", "read_group", [], ["state"], ["state"])
    assert {group["state"] for group in states} == {"done"}, "no dead letter, nothing left pending or retrying"
