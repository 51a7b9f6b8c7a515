"""Benchmark: inbound production reports per second, REST API against Odoo's JSON-RPC.

One production report is the shop floor's ``mfg.production.performance_reported.v1``: the whole
quantity of a manufacturing order produced under a new finished lot, a lot-tracked component
consumed from a named lot and an untracked one, and the order closed (done). Against a real Odoo
HTTP server process started by this script, in one run:
 (a) ``POST /api/mfg/v1/events``, one report per request, the system's technical user and its scoped
     API key (as README "Inbound" sets them up);
 (b) ``POST /api/mfg/v1/events/batch``, 500 reports per request;
 (c) the same business effect over ``/jsonrpc`` ``execute_kw`` with an ``rpc`` API key of a user
     with the technical user's rights (a technical user's keys open only the REST API), in the fewest
     calls an integrator makes per report (its product ids cached once): read the order's moves, find
     the consumed lot, make the finished lot, write the produced and consumed quantities with their
     lots, mark the order done (5 calls).
Each way first applies 3 reports untimed (warm caches for all alike); every order is then checked
to have the same records (done, quantity produced, finished lot and quantity, consumed lots and
quantities), and the server process's CPU per report is printed beside the rates. In process, the
JSON-RPC way's SQL statements and commits per report are counted, and the inbound path, one request
per report, one batch and the inbound cron applying a stored batch, is profiled: SQL statements per
step, commits, CPU and JSON Schema time.

Run it through `setup/bench` (throw-away cluster and database), or directly:
    python3 bench/bench_inbound.py -c odoo.conf -d DB [--reports 500]
"""

import argparse
import contextlib
import cProfile
import pstats
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import psutil
import requests

import odoo
from odoo import SUPERUSER_ID, api, fields
from odoo.modules.registry import Registry
from odoo.service import model as rpc_service
from odoo.sql_db import Cursor

PERFORMANCE = "mfg.production.performance_reported.v1"
QUANTITY = 10.0
BATCH = 500
STARTUP_TIMEOUT = 180
TARGET_SINGLE = 1.0
TARGET_BATCH = 3.0
WARM_UP = 3  # reports each way before the timed ones
# Report number i happened i seconds after this (the ways number their reports from 80000 to 97500).
REPORTED_FROM = datetime(2026, 12, 1)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--reports", type=int, default=500, help="reports per way (default: 500)")
    parser.add_argument("--profile-events", type=int, default=50, help="events profiled in process (default: 50)")
    parser.add_argument("--skip-http", action="store_true", help="only the in-process profile")
    return parser.parse_args()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Plant:
    """The bench's own products, lots, orders, system, technical user and JSON-RPC user."""

    def __init__(self, registry):
        self.registry = registry
        self.tag = uuid.uuid4().hex[:6].upper()

    @contextlib.contextmanager
    def env(self):
        with self.registry.cursor() as cr:
            yield api.Environment(cr, SUPERUSER_ID, {})

    def build(self):
        with self.env() as env:
            env["res.config.settings"].create({"group_stock_production_lot": True}).execute()
            Product = env["product.product"]
            self.finished = Product.create(
                {"name": f"Bench pump {self.tag}", "default_code": f"BFG-{self.tag}", "is_storable": True,
                 "tracking": "lot"}
            )  # fmt: skip
            self.steel = Product.create(
                {"name": f"Bench steel {self.tag}", "default_code": f"BST-{self.tag}", "is_storable": True,
                 "tracking": "lot"}
            )  # fmt: skip
            self.bolt = Product.create(
                {"name": f"Bench bolt {self.tag}", "default_code": f"BBO-{self.tag}", "is_storable": True}
            )
            self.steel_lot = env["stock.lot"].create({"name": f"BL-{self.tag}", "product_id": self.steel.id})
            warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
            Quant = env["stock.quant"]
            Quant._update_available_quantity(self.steel, warehouse.lot_stock_id, 10**7, lot_id=self.steel_lot)
            Quant._update_available_quantity(self.bolt, warehouse.lot_stock_id, 10**7)
            self.bom = env["mrp.bom"].create(
                {
                    "product_tmpl_id": self.finished.product_tmpl_id.id,
                    "product_qty": 1,
                    "bom_line_ids": [
                        (0, 0, {"product_id": self.steel.id, "product_qty": 2}),
                        (0, 0, {"product_id": self.bolt.id, "product_qty": 1}),
                    ],
                }
            )
            performance = env["mfg.integration.event.type"]._get_by_code(PERFORMANCE, "inbound")
            system = env["mfg.integration.system"].create(
                {"name": f"Bench MES {self.tag}", "code": f"BENCH-IN-{self.tag}", "warehouse_id": warehouse.id,
                 "inbound_event_type_ids": [(6, 0, performance.ids)],
                 # a plant flushing its buffer posts faster than the default 600 requests a minute
                 "rate_limit_per_minute": 10**6}
            )  # fmt: skip
            self.system_id = system.id
            technical_user = system.action_create_technical_user()
            self.api_key = self._api_key(env, technical_user, system)
            rpc_user = (
                env["res.users"]
                .with_context(no_reset_password=True)
                .create(
                    {
                        "name": f"Bench JSON-RPC integrator {self.tag}",
                        "login": f"bench-rpc-{self.tag}".lower(),
                        # the technical user's rights: what applying a report needs, no more
                        "groups_id": [(6, 0, technical_user.groups_id.ids)],
                    }
                )
            )
            self.rpc_uid = rpc_user.id
            expiry = fields.Datetime.now() + timedelta(days=1)
            self.rpc_key = env["res.users.apikeys"].with_user(rpc_user)._generate("rpc", "bench", expiry)
            # Freeze the ids (the records' environment closes with this cursor).
            self.finished, self.steel, self.bolt = self.finished.id, self.steel.id, self.bolt.id
            self.steel_lot, self.bom = self.steel_lot.name, self.bom.id

    @staticmethod
    def _api_key(env, user, system):
        """A key of scope mfg_integration made the documented way (the system form's New API Key)."""
        wizard = env["mfg.integration.api.key.wizard"].create(
            {"system_id": system.id, "user_id": user.id, "name": "bench",
             "expiration_date": fields.Datetime.now() + timedelta(days=1)}
        )  # fmt: skip
        return wizard.action_generate()["context"]["default_key"]

    def orders(self, count):
        """``count`` confirmed orders of QUANTITY pumps (names, in creation order)."""
        with self.env() as env:
            orders = env["mrp.production"].create(
                [{"product_id": self.finished, "product_qty": QUANTITY, "bom_id": self.bom} for _ in range(count)]
            )
            orders.action_confirm()
            return orders.mapped("name")

    def report(self, order, index):
        """The shop floor's report for ``order``: everything produced under a new lot, consumption, close."""
        return {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "urn:mes:bench",
            "type": PERFORMANCE,
            "time": "2026-12-01T10:00:00Z",
            "data": {
                "production_order": order,
                # Each report when it happened, as a shop floor sends them (not one shared instant).
                "occurred_at": (REPORTED_FROM + timedelta(seconds=index)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "quantity": QUANTITY,
                "lot": self.finished_lot(index),
                "consumed": [
                    {"material": f"BST-{self.tag}", "quantity": 2 * QUANTITY, "lot": self.steel_lot},
                    {"material": f"BBO-{self.tag}", "quantity": QUANTITY},
                ],
                "close": True,
            },
        }

    def finished_lot(self, index):
        return f"FG-{self.tag}-{index:05d}"

    def check(self, orders, first_index):
        """Every order done with its quantity under its finished lot, the steel consumed from its lot
        and the bolts: the same records whichever way the report came."""
        with self.env() as env:
            found = env["mrp.production"].search([("name", "in", orders)])
            by_name = {order.name: order for order in found}
            for offset, name in enumerate(orders):
                order = by_name[name]
                effect = {
                    "state": order.state,
                    "produced": order.qty_produced,
                    "finished": _done_lines(order.move_finished_ids),
                    "consumed": _done_lines(order.move_raw_ids),
                }
                expected = {
                    "state": "done",
                    "produced": QUANTITY,
                    "finished": [(self.finished, self.finished_lot(first_index + offset), QUANTITY)],
                    "consumed": sorted([(self.steel, self.steel_lot, 2 * QUANTITY), (self.bolt, False, QUANTITY)]),
                }
                if effect != expected:
                    raise SystemExit(f"order {name}: {effect}, expected {expected}: the business effect is wrong")


def _done_lines(moves):
    """(product id, lot name, quantity) of the done move lines of ``moves``, sorted."""
    lines = moves.filtered(lambda move: move.state == "done").move_line_ids
    return sorted((line.product_id.id, line.lot_id.name or False, line.quantity) for line in lines)


@contextlib.contextmanager
def odoo_server(config, database, log_path):
    """A real Odoo server process (threaded; one cron thread applies what a batch leaves to the cron) on a free port."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "odoo", "-c", config, "-d", database, f"--db-filter=^{database}$",
        "--http-interface=127.0.0.1", f"--http-port={port}", "--workers=0", "--max-cron-threads=1",
        f"--logfile={log_path}", "--log-level=warn",
    ]  # fmt: skip
    process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                raise SystemExit(f"Odoo server exited with {process.returncode}, see {log_path}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{url}/web/health", timeout=5).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"Odoo server not healthy after {STARTUP_TIMEOUT}s, see {log_path}")
            time.sleep(0.5)
        yield url, psutil.Process(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the three ways ---------------------------------------------------------------------


def post_single(session, url, plant, orders, first_index):
    for offset, order in enumerate(orders):
        response = session.post(
            f"{url}/api/mfg/v1/events",
            json=plant.report(order, first_index + offset),
            headers={"Content-Type": "application/cloudevents+json"},
            timeout=120,
        )
        if response.status_code != 200:
            raise SystemExit(f"POST /events answered {response.status_code}: {response.text[:500]}")


def post_batches(session, url, plant, orders, first_index):
    for start in range(0, len(orders), BATCH):
        chunk = orders[start : start + BATCH]
        response = session.post(
            f"{url}/api/mfg/v1/events/batch",
            json=[plant.report(order, first_index + start + offset) for offset, order in enumerate(chunk)],
            headers={"Content-Type": "application/cloudevents-batch+json"},
            timeout=1800,
        )
        results = response.json().get("results", [])
        failed = [r for r in results if r["status"] not in (200, 202)]
        if response.status_code != 207 or failed:
            raise SystemExit(
                f"POST /events/batch answered {response.status_code}: {str(failed or response.text)[:500]}"
            )
        # Past its time budget, a batch leaves the rest to the inbound cron (202): wait for them as an integrator would.
        wait_processed(session, url, [r["body"]["message_id"] for r in results if r["status"] == 202])


def wait_processed(session, url, message_ids, timeout=1800):
    deadline = time.monotonic() + timeout
    for message_id in message_ids:
        while session.get(f"{url}/api/mfg/v1/messages/{message_id}", timeout=60).json()["status"] != "processed":
            if time.monotonic() > deadline:
                raise SystemExit(f"message {message_id} not processed after {timeout} s")
            time.sleep(0.2)


class JsonRpc:
    """Odoo's external API as an integrator uses it: /jsonrpc, object.execute_kw, an API key."""

    def __init__(self, session, url, database, uid, key):
        self.session, self.url, self.database, self.uid, self.key = session, url, database, uid, key

    def __call__(self, model, method, *args, **kwargs):
        params = {"service": "object", "method": "execute_kw",
                  "args": [self.database, self.uid, self.key, model, method, list(args), kwargs]}  # fmt: skip
        response = self.session.post(
            f"{self.url}/jsonrpc", json={"jsonrpc": "2.0", "method": "call", "params": params, "id": 1}, timeout=120
        )
        answer = response.json()
        if "error" in answer:
            raise SystemExit(f"JSON-RPC {model}.{method}: {answer['error']['data']['message']}")
        return answer["result"]


def jsonrpc_way(rpc, plant, orders, first_index):
    """One report per order in the fewest execute_kw calls (product ids known beforehand): the
    order's moves, the consumed lot's id, the new finished lot, one write of the produced quantity
    and lot and the consumed quantities and lots, mark done: 5 calls. The finished lot is made with
    ``load`` (Odoo's import API): ``create`` of a lot fails over RPC in Odoo 18 once stock_account
    is installed (its override of ``create`` loses the ``model_create_multi`` marker)."""
    for offset, order in enumerate(orders):
        moves = rpc(
            "stock.move",
            "search_read",
            [("raw_material_production_id.name", "=", order)],
            fields=["product_id", "raw_material_production_id", "location_id", "location_dest_id", "product_uom"],
        )
        steel_lot = rpc("stock.lot", "search", [("product_id", "=", plant.steel), ("name", "=", plant.steel_lot)])[0]
        loaded = rpc(
            "stock.lot",
            "load",
            ["name", "product_id/.id"],
            [[plant.finished_lot(first_index + offset), plant.finished]],
        )
        if not loaded["ids"]:
            raise SystemExit(f"JSON-RPC stock.lot.load: {loaded['messages']}")
        raw_moves = []
        for move in moves:
            product = move["product_id"][0]
            line = {"product_id": product, "quantity": 2 * QUANTITY if product == plant.steel else QUANTITY,
                    "product_uom_id": move["product_uom"][0], "location_id": move["location_id"][0],
                    "location_dest_id": move["location_dest_id"][0]}  # fmt: skip
            if product == plant.steel:
                line["lot_id"] = steel_lot
            raw_moves.append((1, move["id"], {"move_line_ids": [(5, 0, 0), (0, 0, line)], "picked": True}))
        production_id = moves[0]["raw_material_production_id"][0]
        rpc(
            "mrp.production",
            "write",
            [production_id],
            {"qty_producing": QUANTITY, "lot_producing_id": loaded["ids"][0], "move_raw_ids": raw_moves},
        )
        rpc("mrp.production", "button_mark_done", [production_id])


def timed(label, count, server, run):
    """Reports per second of ``run`` and the CPU time the server process spent per report (less
    sensitive to the machine's load than the wall clock; PostgreSQL's own CPU is not in it)."""
    cpu_before = sum(server.cpu_times()[:2])
    started = time.perf_counter()
    run()
    elapsed = time.perf_counter() - started
    cpu_ms = (sum(server.cpu_times()[:2]) - cpu_before) / count * 1000
    rate = count / elapsed
    print(f"  {label:<58} {count:5d} reports in {elapsed:7.1f} s: {rate:7.1f} reports/s, "
          f"server CPU {cpu_ms:6.1f} ms per report")  # fmt: skip
    return rate, cpu_ms


# -- profile of the inbound path, in process ------------------------------------------------


# The steps of one report whose SQL statements the profile counts (the innermost one running
# gets the statement): inbox steps, then the mrp handler's.
STEPS = (
    ("mfg.integration.message", "_inbound_check"),
    ("mfg.integration.message", "_inbound_store"),
    ("mfg.integration.message", "_cron_process_inbound"),
    ("mfg.integration.message", "_inbound_apply_message"),
    ("mfg.integration.message", "_inbound_apply_together"),
    ("mfg.integration.message", "_inbound_apply"),
    ("mfg.integration.message", "_inbound_blocker"),
    ("mfg.integration.message", "_inbound_technical_env"),
    ("mfg.integration.message", "_inbound_release_waiting"),
    ("mfg.integration.message", "_inbound_finish"),
    ("mrp.production", "_mfg_handle_performance_reported"),
    ("mrp.production", "_mfg_handle_performance_reported_many"),
    ("mrp.production", "_mfg_reported_order"),
    ("mrp.production", "_mfg_apply_report"),
    ("mrp.production", "_mfg_find_order"),
    ("mrp.production", "_mfg_started_by_report"),
    ("mrp.production", "_mfg_finished_report"),
    ("mrp.production", "_mfg_consumption_reported"),
    ("mrp.production", "_mfg_close_prepare"),
    ("mrp.production", "_mfg_mark_done"),
)


@contextlib.contextmanager
def counted_steps(registry, running):
    """Wrap the methods of STEPS so that ``running`` (a list) ends with the innermost one running."""
    originals = []
    for model, name in STEPS:
        cls = registry[model]
        original = getattr(cls, name, None)
        if original is None:
            continue  # a step of another version of the code (the script also profiles the code before a change)

        def wrapper(*args, _original=original, _name=name, **kwargs):
            running.append(_name)
            try:
                return _original(*args, **kwargs)
            finally:
                running.pop()

        originals.append((cls, name, original))
        setattr(cls, name, wrapper)
    try:
        yield
    finally:
        for cls, name, original in originals:
            setattr(cls, name, original)


class SqlCount:
    """SQL statements (by text and by step of STEPS running), their time and the commits of every
    cursor of this process (the request's and the inbox's own) while counting."""

    def __init__(self):
        self.statements, self.seconds, self.by_step, self.commits = Counter(), Counter(), Counter(), 0
        self.running = []  # see counted_steps

    @contextlib.contextmanager
    def counting(self):
        real_execute, real_commit = Cursor.execute, Cursor.commit

        def counting_execute(cursor, query, params=None, log_exceptions=True):
            text = query.code if hasattr(query, "code") else str(query)
            key = " ".join(text.split())[:70]
            self.statements[key] += 1
            self.by_step[self.running[-1] if self.running else "(controller)"] += 1
            started = time.perf_counter()
            try:
                return real_execute(cursor, query, params, log_exceptions)
            finally:
                self.seconds[key] += time.perf_counter() - started

        def counting_commit(cursor):
            self.commits += 1
            return real_commit(cursor)

        Cursor.execute, Cursor.commit = counting_execute, counting_commit
        try:
            yield self
        finally:
            Cursor.execute, Cursor.commit = real_execute, real_commit


def profile_jsonrpc(plant, count):
    """SQL statements and commits per report of the JSON-RPC way, its calls made in process."""
    orders = plant.orders(count)

    def rpc(model, method, *args, **kwargs):
        return rpc_service.execute(plant.registry.db_name, plant.rpc_uid, model, method, *args, **kwargs)

    sql = SqlCount()
    with sql.counting():
        jsonrpc_way(rpc, plant, orders, 97000)
    plant.check(orders, 97000)
    print(f"  JSON-RPC way in process ({count} reports, 5 calls each): {sum(sql.statements.values()) / count:.1f} "
          f"SQL statements and {sql.commits / count:.1f} commits per report")  # fmt: skip


def profile_inbox(plant, count, way):
    """SQL statements (per step), commits, advisory locks and JSON Schema time per event, applying
    ``count`` reports in process the way the controller does (as the technical user): one request
    per report (``single``), one batch of them all (``batch``), or stored by one batch with
    ``Prefer: respond-async`` and applied by the inbound cron (``cron``, its run profiled alone)."""
    first_index = {"single": 90000, "batch": 95000, "cron": 85000}[way]
    orders = plant.orders(count)
    events = [plant.report(order, first_index + index) for index, order in enumerate(orders)]
    profiler = cProfile.Profile()
    with plant.registry.cursor() as cr:
        system = api.Environment(cr, SUPERUSER_ID, {})["mfg.integration.system"].browse(plant.system_id)
        tech_env = api.Environment(cr, system.user_ids[:1].id, {})
        Message = tech_env["mfg.integration.message"]
        system = Message._inbound_system()  # as the controller finds it
        sql = SqlCount()
        started, cpu_started = time.perf_counter(), time.process_time()
        if way == "cron":
            for result in Message._inbound_receive_batch(system, events, prefer_async=True):
                if result.kind != "accepted":
                    raise SystemExit(f"in-process report refused: {result.body}")
            cr.commit()
            started, cpu_started = time.perf_counter(), time.process_time()
        with sql.counting(), counted_steps(plant.registry, sql.running):
            profiler.enable()
            if way == "cron":
                # sudo: the inbound cron runs as the superuser (its ir.cron user).
                Message.sudo()._cron_process_inbound()
            else:
                received = (
                    Message._inbound_receive_batch(system, events)
                    if way == "batch"
                    else (Message._inbound_receive(system, event) for event in events)
                )
                for result in received:
                    if result.kind != "processed":
                        raise SystemExit(f"in-process report refused: {result.body}")
                    cr.commit()  # what the request's end (a batch: each event's end) does
            profiler.disable()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    plant.check(orders, first_index)
    stats = pstats.Stats(profiler)

    def cumulative(name):
        return sum(row[3] for func, row in stats.stats.items() if func[2] == name) / count * 1000

    total = sum(sql.statements.values())
    advisory = sum(n for text, n in sql.statements.items() if "advisory" in text)
    label = {
        "single": "one request each (as the controller applies them, without HTTP)",
        "batch": f"one batch of {count} (as the controller applies them, without HTTP)",
        "cron": "stored by one batch, applied by the inbound cron (its run alone)",
    }[way]
    print(f"  in-process profile of {count} reports, {label}:")
    handler = cumulative("_mfg_handle_performance_reported") + cumulative("_mfg_handle_performance_reported_many")
    print(
        f"    {elapsed / count * 1000:7.1f} ms ({cpu / count * 1000:.1f} ms CPU, profiled) per report: "
        f"mrp handler {handler:.1f} ms, inbox checks "
        f"{cumulative('_inbound_check'):.1f} ms (JSON Schema {cumulative('schema_errors'):.2f} ms), "
        f"store {cumulative('_inbound_store'):.1f} ms, outcome {cumulative('_inbound_finish'):.1f} ms"
    )
    print(f"    {total / count:7.1f} SQL statements, {sql.commits / count:.2f} commits and {advisory / count:.1f}"
          " advisory locks per report (all cursors)")  # fmt: skip
    print("    SQL statements per report by step (innermost running): "
          + ", ".join(f"{step} {n / count:.1f}" for step, n in sql.by_step.most_common()))  # fmt: skip
    print(f"    {sum(sql.seconds.values()) / count * 1000:7.1f} ms per report in SQL; the longest statements:")
    for text, seconds in sql.seconds.most_common(8):
        print(f"      {sql.statements[text] / count:5.1f} x {seconds / sql.statements[text] * 1000:6.1f} ms  {text}")
    out = Path(tempfile.gettempdir()) / f"bench_inbound_{way}.prof"
    stats.dump_stats(out)
    print(f"    cProfile data: {out}")


def main():
    args = parse_args()
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database])
    registry = Registry(args.database)
    plant = Plant(registry)
    plant.build()
    if not args.skip_http:
        compare_ways(args, plant)
    profile_jsonrpc(plant, args.profile_events)
    for way in ("single", "batch", "cron"):
        profile_inbox(plant, args.profile_events, way)


def compare_ways(args, plant):
    count = args.reports
    single_orders, batch_orders, rpc_orders = (plant.orders(count) for _ in range(3))
    warm_orders = plant.orders(3 * WARM_UP)
    print(f"Inbound production reports ({count} per way; one report = produce {QUANTITY:g} under a new lot, "
          "consume a lot-tracked and an untracked component, close)")  # fmt: skip
    log_path = Path(tempfile.gettempdir()) / f"bench_inbound_{plant.tag}.log"
    with odoo_server(args.config, args.database, log_path) as (url, server), requests.Session() as api_session:
        api_session.headers["Authorization"] = f"Bearer {plant.api_key}"
        with requests.Session() as rpc_session:
            rpc = JsonRpc(rpc_session, url, args.database, plant.rpc_uid, plant.rpc_key)
            # A few reports each way first, untimed: the server's caches warm for every way alike.
            jsonrpc_way(rpc, plant, warm_orders[:WARM_UP], 80000)
            post_single(api_session, url, plant, warm_orders[WARM_UP : 2 * WARM_UP], 80000 + WARM_UP)
            post_batches(api_session, url, plant, warm_orders[2 * WARM_UP :], 80000 + 2 * WARM_UP)
            rpc_rate, rpc_cpu = timed("JSON-RPC execute_kw, 5 calls per report", count, server,
                                      lambda: jsonrpc_way(rpc, plant, rpc_orders, 2 * count))  # fmt: skip
        single_rate, single_cpu = timed("POST /api/mfg/v1/events, one report per request", count, server,
                                        lambda: post_single(api_session, url, plant, single_orders, 0))  # fmt: skip
        batch_rate, batch_cpu = timed(f"POST /api/mfg/v1/events/batch, {BATCH} reports per request", count, server,
                                      lambda: post_batches(api_session, url, plant, batch_orders, count))  # fmt: skip
    plant.check(single_orders, 0)
    plant.check(batch_orders, count)
    plant.check(rpc_orders, 2 * count)
    print(f"  single posts / JSON-RPC: ratio {single_rate / rpc_rate:.2f} (target >= {TARGET_SINGLE}); "
          f"server CPU per report {rpc_cpu / single_cpu:.2f}x less")  # fmt: skip
    print(f"  batches / JSON-RPC:      ratio {batch_rate / rpc_rate:.2f} (target >= {TARGET_BATCH}); "
          f"server CPU per report {rpc_cpu / batch_cpu:.2f}x less")  # fmt: skip


if __name__ == "__main__":
    main()
