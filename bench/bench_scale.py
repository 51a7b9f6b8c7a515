"""Benchmark: flat at a million messages, and the retention purge.

Fills the message table (and the attempts alongside) with plain SQL, first to --small then to
--large messages (99% delivered/processed or ignored, 1% open: pending, in progress, retrying,
dead, inbound waiting, and a full page of dead and of waiting messages at any size; two companies,
several systems and endpoints, dates over 330 days),
VACUUM ANALYZEs, and at each size times what users and the dispatcher do every second:
 - the dispatcher's claim (``_claim_due``, 50 due messages, rolled back);
 - ``emit`` of one event to 2 subscribed endpoints (rolled back);
 - the monitoring dashboard's data (``get_dashboard_data``, the RPC its OWL client calls);
 - ``GET /api/mfg/v1/health`` and ``/metrics`` over real HTTP on an Odoo server process;
 - the support's message lists (``web_search_read`` as the web client sends it: Messages,
   Messages filtered Failed, Inbound Exceptions; 80 rows, counted up to 10,000);
 - the integration badges of 80 manufacturing orders, transfers and purchase orders.
It prints both figures and the ratio (target <= 2) for each, then EXPLAIN (ANALYZE) of the
slowest statements of each measure at the large size, then purges the old messages (retention
purge, one batch per transaction as its cron runs it) while a dispatcher delivers new messages,
and prints the purge's time and the dispatcher's claim latency during the purge.

Works on its own copy of the database (``<db>_scale``), dropped at the end: ``<db>`` is left untouched.

Run it through `setup/bench` (throw-away cluster and database), or directly:
    python3 bench/bench_scale.py -c odoo.conf -d DB [--small 10000] [--large 1000000]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from datetime import timedelta

import requests

import odoo
from odoo import SUPERUSER_ID, api, fields
from odoo.modules.registry import Registry

PING = "mfg.integration.ping.v1"
CLAIM = "dispatcher claim (50 due messages)"
TARGET_RATIO = 2.0
RETENTION_DAYS = 30
# Seconds the dispatcher runs alone before the purge: its claim latency without the purge.
BASELINE_SECONDS = 20
# Timeline of the fill: delivered messages spread over HISTORY_DAYS, so that 90% of them
# are older than the retention (900k of a million go in the purge).
HISTORY_DAYS = 330
# Lease of the filled messages in progress (being sent by a live dispatcher) in seconds: they stay
# in flight through both sizes' measures. A 30 s lease expired during the million's fill (minutes)
# but not the 10,000's, so the two sizes' claims took different paths (the dead dispatcher's).
IN_FLIGHT_LEASE = 3600
# Distribution of states per million messages (cumulative upper bounds).
STATE_BOUNDS = (
    ("done", 985_000),
    ("cancelled", 990_000),
    ("pending", 995_000),
    ("in_progress", 996_000),
    ("retry", 998_500),
    ("dead", 999_700),
    ("waiting", 1_000_000),
)
LIST_FIELDS = (
    "create_date", "direction", "event_type_id", "subject", "system_id", "endpoint_id", "state",
    "attempt_count", "next_attempt_at", "last_http_status", "latency_ms", "last_error", "company_id",
)  # fmt: skip
# Domains of the support's lists: the Failed filter, the Inbound Exceptions menu.
FAILED = [("state", "in", ("retry", "dead"))]
EXCEPTIONS = [("direction", "=", "inbound"), ("state", "in", ("dead", "waiting"))]
COUNT_LIMIT = 10_001  # what Odoo 18's list view sends (it shows "10000+" beyond)
PAGE = 80
# The first messages of the fill: alternately dead and waiting (inbound), so that the Failed and
# Inbound Exceptions lists hold a full page at the small size too (1% open at 10,000 messages gives
# 36 and 5 rows): both sizes then read and send the same 80 rows. Neither state is due, so the
# dispatcher's claim sees the same backlog as without them.
FULL_PAGES_SEED = 2 * PAGE


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True, help="database to copy (left untouched)")
    parser.add_argument("--small", type=int, default=10_000, help="first size (messages)")
    parser.add_argument("--large", type=int, default=1_000_000, help="second size (messages)")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per measure and size")
    parser.add_argument("--no-purge", action="store_true", help="skip the retention purge")
    return parser.parse_args()


def median_ms(seconds):
    return statistics.median(seconds) * 1000


def percentile_ms(seconds, fraction):
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] * 1000


class QueryLog:
    """The statements a piece of code runs, with their duration (to EXPLAIN the slowest)."""

    def __init__(self):
        self.statements = []

    @contextmanager
    def capture(self):
        original = odoo.sql_db.Cursor.execute
        log = self.statements

        def execute(cursor, query, params=None, log_exceptions=True):
            started = time.perf_counter()
            result = original(cursor, query, params, log_exceptions)
            log.append((time.perf_counter() - started, cursor._obj.query.decode()))
            return result

        odoo.sql_db.Cursor.execute = execute
        try:
            yield self
        finally:
            odoo.sql_db.Cursor.execute = original

    def slowest(self, count):
        touching = [entry for entry in self.statements if "mfg_integration_message" in entry[1]]
        return [query for _duration, query in sorted(touching, reverse=True)[:count]]


class ScaleBench:
    def __init__(self, registry, repeat):
        self.registry = registry
        self.repeat = repeat
        self.fixture = {}
        self.rows = 0
        self.page_rows = {}

    def env(self, cr, uid=SUPERUSER_ID, **context):
        return api.Environment(cr, uid, context)

    # -- fixtures ----------------------------------------------------------------

    def make_fixture(self, receiver_url):
        """Companies, systems, endpoints, a support user with a monitoring key, business records."""
        with self.registry.cursor() as cr:
            env = self.env(cr)
            company_a = env.ref("base.main_company")
            run = time.time_ns()
            # Our own copy of the database: only the endpoints made here are live.
            env["mfg.integration.endpoint"].search([]).write({"active": False})
            company_b = env["res.company"].create({"name": f"Scale Plant B {run}"})
            env.user.company_ids |= company_b
            types = env["mfg.integration.event.type"].with_context(active_test=False)
            outbound_types = types.search([("direction", "=", "outbound")]).ids
            inbound_types = types.search([("direction", "=", "inbound")])
            System = env["mfg.integration.system"]
            endpoints = {company_a.id: [], company_b.id: []}
            for company, count, endpoint_count in ((company_a, 2, 2), (company_b, 1, 1)):
                for index in range(count):
                    system = System.create(
                        {
                            "name": f"Scale {company.name} {index}",
                            "code": f"SCALE-{run}-{company.id}-{index}",
                            "company_id": company.id,
                            "inbound_event_type_ids": [(6, 0, inbound_types.ids)],
                        }
                    )
                    for number in range(endpoint_count):
                        endpoint = env["mfg.integration.endpoint"].create(
                            {"name": f"{system.code} out {number}", "system_id": system.id, "url": receiver_url}
                        )
                        endpoints[company.id].append((system.id, endpoint.id))
            ping = types._get_by_code(PING, "outbound")
            emit_system = System.create({"name": "Scale emitter", "code": f"SCALE-EMIT-{run}"})
            env["mfg.integration.endpoint"].create(
                [
                    {
                        "name": f"emit {number}",
                        "system_id": emit_system.id,
                        "url": receiver_url,
                        "subscription_ids": [(0, 0, {"event_type_id": ping.id})],
                    }
                    for number in range(2)
                ]
            )
            manager = env["res.users"].create(
                {
                    "name": "Scale support",
                    "login": f"scale_support_{run}",
                    "company_id": company_a.id,
                    "company_ids": [(6, 0, [company_a.id, company_b.id])],
                    "groups_id": [
                        (4, env.ref("base.group_user").id),
                        (4, env.ref("mfg_integration.group_mfg_integration_manager").id),
                    ],
                }
            )
            key = (
                env["res.users.apikeys"]
                .with_user(manager)
                ._generate("mfg_integration_monitoring", "scale bench", fields.Datetime.now() + timedelta(days=30))
            )
            product = env["product.product"].create({"name": "Scale product", "is_storable": True})
            partner = env["res.partner"].create({"name": "Scale supplier"})
            picking_type = env.ref("stock.picking_type_in")
            records = {
                "mrp.production": env["mrp.production"].create([{"product_id": product.id} for _ in range(PAGE)]).ids,
                "purchase.order": env["purchase.order"].create([{"partner_id": partner.id} for _ in range(PAGE)]).ids,
                "stock.picking": env["stock.picking"]
                .create([{"picking_type_id": picking_type.id, "partner_id": partner.id} for _ in range(PAGE)])
                .ids,
            }
            self.fixture = {
                "companies": [company_a.id, company_b.id],
                "endpoints": endpoints,
                "outbound_types": outbound_types,
                "inbound_types": inbound_types.ids,
                "manager": manager.id,
                "key": key,
                "partner": partner.id,
                "records": records,
            }

    # -- the fill ----------------------------------------------------------------

    def fill_to(self, size):
        """Add messages (and their attempts) up to ``size`` in one SQL statement each, then ANALYZE."""
        count = size - self.rows
        started = time.perf_counter()
        with self.registry.cursor() as cr:
            first_id = self._insert_messages(cr, self.rows, count)
            self._insert_attempts(cr, first_id)
            cr.commit()
            # What autovacuum does after a bulk of inserts: statistics and the visibility map
            # (index-only scans), as on a production table in its steady state.
            cr._cnx.autocommit = True
            cr.execute("VACUUM ANALYZE mfg_integration_message")
            cr.execute("VACUUM ANALYZE mfg_integration_attempt")
            cr._cnx.autocommit = False
            cr.execute("SELECT count(*) FROM mfg_integration_attempt")
            attempts = cr.fetchone()[0]
        self.rows = size
        print(
            f"  filled to {size:,} messages ({attempts:,} attempts) in {time.perf_counter() - started:.0f} s",
            flush=True,
        )

    def _insert_messages(self, cr, offset, count):
        fixture = self.fixture
        company_a, company_b = fixture["companies"]
        state_case = " ".join(f"WHEN b < {bound} THEN '{state}'" for state, bound in STATE_BOUNDS)
        # A few messages per business record whatever the size (more records as the table grows).
        records_per_model = max(PAGE, (offset + count) // 16)
        cr.execute("SELECT COALESCE(max(id), 0) FROM mfg_integration_message")
        first_id = cr.fetchone()[0] + 1
        cr.execute(
            f"""
            WITH series AS (
                SELECT g,
                       (g::bigint * 2654435761) %% 1000000 AS b,
                       ((g::bigint * 48271) %% 1000003) / 1000003.0 AS age,
                       g %% 5 = 0 AS in_b
                  FROM generate_series(%(start)s, %(stop)s) g
            ), shaped AS (
                SELECT s.*,
                       CASE WHEN s.g <= %(seed)s THEN (ARRAY['dead', 'waiting'])[1 + s.g %% 2]
                            ELSE CASE {state_case} END END AS state,
                       (now() AT TIME ZONE 'UTC') AS now_utc
                  FROM series s
            ), placed AS (
                SELECT s.*,
                       CASE WHEN s.state = 'waiting' OR (s.g %% 4 = 0 AND s.state IN ('done', 'cancelled', 'dead'))
                            THEN 'inbound' ELSE 'outbound' END AS direction,
                       CASE WHEN s.in_b THEN (%(eb)s)[1 + s.g %% cardinality(%(eb)s)]
                            ELSE (%(ea)s)[1 + s.g %% cardinality(%(ea)s)] END AS endpoint_id,
                       s.now_utc - CASE s.state
                           WHEN 'done' THEN make_interval(secs => s.age * %(history)s * 86400)
                           WHEN 'cancelled' THEN make_interval(secs => s.age * %(history)s * 86400)
                           WHEN 'dead' THEN make_interval(secs => s.age * 7 * 86400)
                           WHEN 'waiting' THEN make_interval(secs => s.age * 86400)
                           WHEN 'retry' THEN make_interval(secs => s.age * 6 * 3600)
                           ELSE make_interval(secs => s.age * 7200) END AS created
                  FROM shaped s
            ), rows AS (
                SELECT p.*, gen_random_uuid()::text AS uuid,
                       json_build_object('reference', 'WH/MO/' || lpad(p.g::text, 7, '0'),
                                         'quantity', p.g %% 50, 'lot', 'LOT-' || p.g %% 997)::text AS body,
                       20 + p.g %% 480 AS latency
                  FROM placed p
            )
            INSERT INTO mfg_integration_message (
                event_id, direction, event_type_id, system_id, endpoint_id, company_id, state, subject,
                payload, payload_sha256, res_model, res_id, correlation_id, idempotency_key, attempt_count,
                next_attempt_at, claimed_until, queued_at, first_attempt_at, done_at, latency_ms, last_error,
                last_http_status, result_kind, create_uid, write_uid, create_date, write_date)
            SELECT r.uuid, r.direction,
                   CASE WHEN r.direction = 'inbound' THEN (%(tin)s)[1 + r.g %% cardinality(%(tin)s)]
                        ELSE (%(tout)s)[1 + r.g %% cardinality(%(tout)s)] END,
                   e.system_id,
                   CASE WHEN r.direction = 'outbound' THEN r.endpoint_id END,
                   CASE WHEN r.in_b THEN %(cb)s ELSE %(ca)s END,
                   r.state, 'WH/MO/' || lpad(r.g::text, 7, '0'),
                   r.body, encode(sha256(convert_to(r.body, 'UTF8')), 'hex'),
                   CASE WHEN r.g %% 6 < 3 THEN 'mrp.production' WHEN r.g %% 6 < 5 THEN 'stock.picking'
                        ELSE 'purchase.order' END,
                   1 + (r.g / 6) %% %(records)s,
                   r.uuid, CASE WHEN r.direction = 'inbound' THEN r.uuid END,
                   CASE r.state WHEN 'done' THEN 1 WHEN 'retry' THEN 1 + r.g %% 4 WHEN 'dead' THEN 8
                                WHEN 'in_progress' THEN r.g %% 2 ELSE 0 END,
                   CASE r.state WHEN 'retry' THEN r.created + make_interval(secs => r.age * 8 * 3600)
                                ELSE r.created END,
                   CASE WHEN r.state = 'in_progress' THEN r.now_utc + make_interval(secs => %(lease)s) END,
                   r.created,
                   CASE WHEN r.state IN ('done', 'retry', 'dead') THEN r.created + make_interval(secs => 0.02) END,
                   CASE WHEN r.state = 'done' THEN r.created + make_interval(secs => r.latency / 1000.0) END,
                   CASE WHEN r.state = 'done' THEN r.latency END,
                   CASE r.state WHEN 'retry' THEN 'HTTP 503: Service Unavailable'
                                WHEN 'dead' THEN 'HTTP 422: unknown work center' END,
                   CASE r.state WHEN 'done' THEN 200 WHEN 'retry' THEN 503 WHEN 'dead' THEN 422 END,
                   CASE WHEN r.direction = 'inbound' THEN
                       CASE r.state WHEN 'done' THEN 'processed' WHEN 'dead' THEN 'refused'
                                    WHEN 'waiting' THEN 'waiting' END END,
                   1, 1, r.created, r.created
              FROM rows r
              JOIN mfg_integration_endpoint e ON e.id = r.endpoint_id
             ORDER BY r.created
            """,
            {
                "start": offset + 1,
                "stop": offset + count,
                "ea": [endpoint for _system, endpoint in self.fixture["endpoints"][company_a]],
                "eb": [endpoint for _system, endpoint in self.fixture["endpoints"][company_b]],
                "ca": company_a,
                "cb": company_b,
                "tin": fixture["inbound_types"],
                "tout": fixture["outbound_types"],
                "history": HISTORY_DAYS,
                "records": records_per_model,
                "seed": FULL_PAGES_SEED,
                "lease": IN_FLIGHT_LEASE,
            },
        )
        return first_id

    def _insert_attempts(self, cr, first_id):
        """One attempt per delivery try: outbound messages tried, inbound ones processed."""
        cr.execute(
            """
            INSERT INTO mfg_integration_attempt (message_id, company_id, attempted_at, duration_ms, http_status,
                                                 response_excerpt, create_uid, write_uid, create_date, write_date)
            SELECT m.id, m.company_id, m.first_attempt_at + make_interval(secs => n * 60), 20 + m.id %% 200,
                   m.last_http_status, CASE WHEN m.state = 'done' THEN '{"ok": true}' ELSE m.last_error END,
                   1, 1, m.first_attempt_at, m.first_attempt_at
              FROM mfg_integration_message m, generate_series(1, m.attempt_count) n
             WHERE m.id >= %s AND m.first_attempt_at IS NOT NULL
            """,
            [first_id],
        )

    # -- measures ----------------------------------------------------------------

    def timed(self, function, log=None):
        """Seconds of each of ``repeat`` runs of ``function(cr)``, each in a transaction rolled back."""
        durations = []
        for run in range(self.repeat + 2):
            with self.registry.cursor() as cr:
                capture = log.capture() if log is not None and run == self.repeat + 1 else _nothing()
                with capture:
                    started = time.perf_counter()
                    function(cr)
                    duration = time.perf_counter() - started
                cr.rollback()
            if run >= 2:  # two warm-up runs: caches, plans
                durations.append(duration)
        return durations

    def measures(self, session, base_url):
        """{name: (function(cr), explain?)}: the timed actions."""
        fixture = self.fixture
        manager = fixture["manager"]
        companies = fixture["companies"]

        def claim(cr):
            deliveries = self.env(cr)["mfg.integration.message"]._claim_due(50)
            assert deliveries, "no due message to claim"

        def emit(cr):
            env = self.env(cr)
            partner = env["res.partner"].browse(fixture["partner"])
            messages = env["mfg.integration.message"].emit(
                PING, partner, {"endpoint": "scale", "system": "scale", "message": "ping"}
            )
            assert len(messages) == 2, messages

        def dashboard(cr):
            env = self.env(cr, manager, allowed_company_ids=companies)
            env["mfg.integration.dashboard"].get_dashboard_data()

        def http(path):
            def get(_cr):
                response = session.get(f"{base_url}/api/mfg/v1/{path}", timeout=60)
                assert response.status_code in (200, 503), (response.status_code, response.text[:300])

            return get

        def message_list(domain):
            def search(cr):
                env = self.env(cr, manager, allowed_company_ids=companies)
                result = env["mfg.integration.message"].web_search_read(
                    domain, {name: {} for name in LIST_FIELDS}, limit=PAGE, count_limit=COUNT_LIMIT
                )
                # The page's rows (a short page at the small size costs less to read and show).
                self.page_rows[str(domain)] = len(result["records"])

            return search

        def badges(cr):
            env = self.env(cr)
            for model, ids in fixture["records"].items():
                env[model].browse(ids).read(["mfg_message_count", "mfg_integration_status"])

        def health_sql(cr):
            from odoo.addons.mfg_integration_monitoring.controllers.main import health_document

            health_document(self.env(cr, manager), companies)

        def metrics_sql(cr):
            from odoo.addons.mfg_integration_monitoring.controllers.main import prometheus_text

            prometheus_text(self.env(cr, manager), companies)

        return {
            CLAIM: (claim, claim),
            "emit of one event to 2 endpoints": (emit, emit),
            "dashboard data (get_dashboard_data)": (dashboard, dashboard),
            "GET /health (HTTP)": (http("health"), health_sql),
            "GET /metrics (HTTP)": (http("metrics"), metrics_sql),
            "list: Messages (80, counted to 10,000)": (message_list([]), message_list([])),
            "list: Messages, filter Failed": (message_list(FAILED), message_list(FAILED)),
            "list: Inbound Exceptions (dead, waiting)": (message_list(EXCEPTIONS), message_list(EXCEPTIONS)),
            "badges of 80 MOs, 80 transfers, 80 POs": (badges, badges),
        }

    def run_measures(self, measures):
        figures = {name: median_ms(self.timed(function)) for name, (function, _sql) in measures.items()}
        pages = ", ".join(
            f"{label} {self.page_rows[str(domain)]}"
            for label, domain in (("Messages", []), ("Failed", FAILED), ("Inbound Exceptions", EXCEPTIONS))
        )
        print(f"  rows on the list pages at {self.rows:,} messages: {pages}", flush=True)
        return figures

    def explain(self, measures):
        """EXPLAIN (ANALYZE, BUFFERS) of the two slowest message statements of each measure."""
        for name, (_function, sql_function) in measures.items():
            log = QueryLog()
            self.timed_once(sql_function, log)
            print(f"  -- {name}")
            for query in log.slowest(2):
                # A statement sent after a session setting (the dispatcher's "SET LOCAL ...;"): the statement.
                query = query.rsplit(";", 1)[-1] if query.lstrip().upper().startswith("SET ") else query
                with self.registry.cursor() as cr:
                    cr.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY ON) {query}")
                    plan = [row[0] for row in cr.fetchall()]
                    cr.rollback()
                print("     " + " ".join(query.split())[:160])
                for line in plan:
                    print(f"       {line}")

    def timed_once(self, function, log):
        with self.registry.cursor() as cr, log.capture():
            function(cr)
            cr.rollback()

    # -- the purge ---------------------------------------------------------------

    def purge_while_dispatching(self, emit_rate=50):
        """Run the retention purge as its cron does (one batch per transaction) while a dispatcher
        delivers new messages emitted meanwhile; returns the figures."""
        from odoo.addons.mfg_integration.models.mfg_integration_message import PURGE_BATCH

        with self.registry.cursor() as cr:
            env = self.env(cr)
            env["ir.config_parameter"].set_param("mfg_integration.retention_days", RETENTION_DAYS)
            limit = fields.Datetime.now() - timedelta(days=RETENTION_DAYS)
            cr.execute(
                "SELECT count(*) FROM mfg_integration_message"
                " WHERE state IN ('done', 'cancelled') AND create_date < %s",
                [limit],
            )
            expected = cr.fetchone()[0]
        stop = threading.Event()
        claims, delivered = [], []
        threads = [
            threading.Thread(target=self._emitter, args=(stop, emit_rate), daemon=True),
            threading.Thread(target=self._dispatcher, args=(stop, claims, delivered), daemon=True),
        ]
        for thread in threads:
            thread.start()
        time.sleep(3)  # the dispatcher is running when the purge starts
        claims.clear()
        time.sleep(BASELINE_SECONDS)
        baseline = list(claims)
        claims.clear()
        batches = []
        started = time.perf_counter()
        with self.registry.cursor() as cr:
            Message = self.env(cr)["mfg.integration.message"]
            while True:
                batch_started = time.perf_counter()
                purged = Message._cron_purge()
                cr.commit()
                batches.append((purged, time.perf_counter() - batch_started))
                if purged < PURGE_BATCH:  # the cron's "nothing remaining"
                    break
        elapsed = time.perf_counter() - started
        during = list(claims)
        delivered_during = sum(delivered)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        return {
            "expected": expected,
            "batch_size": PURGE_BATCH,
            "purged": sum(count for count, _seconds in batches),
            "batches": len(batches),
            "elapsed": elapsed,
            "batch_max": max(seconds for _count, seconds in batches),
            "batch_median": statistics.median(seconds for count, seconds in batches if count),
            "claims": during,
            "baseline": baseline,
            "delivered": delivered_during,
        }

    def _emitter(self, stop, rate):
        """New events, one per transaction, at ``rate`` per second."""
        with self.registry.cursor() as cr:
            env = self.env(cr)
            partner = env["res.partner"].browse(self.fixture["partner"])
            Message = env["mfg.integration.message"]
            while not stop.is_set():
                Message.emit(PING, partner, {"endpoint": "scale", "system": "scale", "message": "ping"})
                cr.commit()
                time.sleep(1.0 / rate)

    def _dispatcher(self, stop, claims, delivered):
        """The dispatcher's loop (claim, send, record: each statement committed alone, as in
        ``_send_due``), timing each claim."""
        from odoo.addons.mfg_integration.lib.delivery import InFlight
        from odoo.addons.mfg_integration.models.mfg_integration_message import statements_committed_alone

        with self.registry.cursor() as cr, ThreadPoolExecutor(max_workers=16) as pool:
            Message = self.env(cr)["mfg.integration.message"]
            Message._next_transaction()
            with statements_committed_alone(cr):
                while not stop.is_set():
                    started = time.perf_counter()
                    deliveries = Message._claim_due(50)
                    claims.append(time.perf_counter() - started)
                    if not deliveries:
                        time.sleep(0.05)
                        continue
                    in_flight, answers = InFlight(pool, 16), []
                    for delivery in deliveries:
                        in_flight.send([delivery])
                    while in_flight:
                        answers += in_flight.answers(60)
                    Message._record_verdicts(answers)
                    delivered.append(len(answers))


@contextmanager
def _nothing():
    yield


# -- the server and the database copy ----------------------------------------------------


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def odoo_server(config, database, logdir):
    port = free_port()
    logfile = os.path.join(logdir, "server.log")
    # fmt: off
    command = [
        sys.executable, "-m", "odoo", "-c", config, "-d", database, "--db-filter", f"^{database}$",
        "--http-port", str(port), "--http-interface", "127.0.0.1", "--workers", "0",
        "--max-cron-threads", "0", "--logfile", logfile, "--log-level", "warn",
    ]
    # fmt: on
    with open(os.path.join(logdir, "server.out"), "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if requests.get(f"{base_url}/web/health", timeout=30).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or loading its registry
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Odoo server did not start, see {logfile}")
            time.sleep(0.5)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=60)


@contextmanager
def database_copy(source):
    """A copy of ``source`` (PostgreSQL template copy), dropped at the end."""
    copy = f"{source}_scale"

    def run(statement):
        odoo.sql_db.close_db(copy)
        with closing(odoo.sql_db.db_connect("postgres").cursor()) as cr:
            cr._cnx.autocommit = True
            cr.execute(statement)

    odoo.sql_db.close_db(source)
    run(f'DROP DATABASE IF EXISTS "{copy}"')
    run(f'CREATE DATABASE "{copy}" TEMPLATE "{source}"')
    try:
        yield copy
    finally:
        Registry.delete(copy)
        run(f'DROP DATABASE "{copy}" WITH (FORCE)')
        shutil.rmtree(odoo.tools.config.filestore(copy), ignore_errors=True)


def print_ratios(small, large, figures):
    print(f"Flat at scale: median of each measure at {small:,} and at {large:,} messages")
    for name, (at_small, at_large) in figures.items():
        ratio = at_large / at_small
        verdict = "met" if ratio <= TARGET_RATIO else "NOT MET"
        print(
            f"  {name:<42} {at_small:8.1f} ms -> {at_large:8.1f} ms   ratio {ratio:5.2f}"
            f"   (target <= {TARGET_RATIO:.1f}: {verdict})"
        )


def print_purge(result):
    claims = result["claims"]
    print(
        f"Retention purge ({RETENTION_DAYS} days): {result['purged']:,} of {result['expected']:,} old messages"
        f" in {result['elapsed']:.0f} s, {result['batches']} batches of up to {result['batch_size']:,}"
        f" (one transaction each: median {result['batch_median'] * 1000:.0f} ms,"
        f" max {result['batch_max'] * 1000:.0f} ms)"
    )
    baseline = result["baseline"]
    if baseline:
        print(
            f"  dispatcher alone, {BASELINE_SECONDS} s before the purge: {len(baseline)} claims, claim+commit"
            f" p50 {percentile_ms(baseline, 0.5):.1f} ms p95 {percentile_ms(baseline, 0.95):.1f} ms"
            f" max {max(baseline) * 1000:.1f} ms"
        )
    if claims:
        print(
            f"  dispatcher during the purge: {len(claims)} claims, claim+commit p50 {percentile_ms(claims, 0.5):.1f} ms"
            f" p95 {percentile_ms(claims, 0.95):.1f} ms max {max(claims) * 1000:.1f} ms;"
            f" {result['delivered']} messages delivered meanwhile"
        )


def main():
    args = parse_args()
    odoo.tools.config.parse_config(["-c", args.config])
    from simulators.mfgsim.scripted_receiver import Receiver

    receiver = Receiver().start()
    with database_copy(args.database) as database, tempfile.TemporaryDirectory(prefix="mfg-scale-") as logdir:
        bench = ScaleBench(Registry(database), args.repeat)
        bench.make_fixture(receiver.url)
        with odoo_server(args.config, database, logdir) as base_url:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {bench.fixture['key']}"
            measures = bench.measures(session, base_url)
            figures = {}
            for size in (args.small, args.large):
                bench.fill_to(size)
                for name, value in bench.run_measures(measures).items():
                    figures.setdefault(name, []).append(value)
                if size == args.small:
                    # The claim's rows read at both sizes: they should be its batch, whatever the backlog.
                    print(f"EXPLAIN (ANALYZE, BUFFERS) of the claim at {size:,} messages")
                    bench.explain({CLAIM: measures[CLAIM]})
            print_ratios(args.small, args.large, figures)
            print(f"EXPLAIN (ANALYZE, BUFFERS) at {args.large:,} messages, the two slowest statements of each measure")
            bench.explain(measures)
        if not args.no_purge:
            print_purge(bench.purge_while_dispatching())
    receiver.stop()


if __name__ == "__main__":
    main()
