"""Benchmark: commit-to-delivered latency under a steady load.

A real Odoo server process (threaded, its cron threads running the dispatcher slots) delivers to a local
receiver that records each arrival; this process commits events one per transaction at a steady rate
(default 50 events/s for 60 s) and records when each commit returned. Prints p50/p95/p99/max of
arrival - commit, and the target (p95 < 250 ms), then where the time goes, from the stored timestamps:
queued (INSERT) -> claimed (stamped by a trigger this benchmark adds to its throw-away database) ->
arrived at the receiver -> recorded (``done_at``), and the senders' own request time.

Run it through `setup/bench` (throw-away cluster and database), or directly:
    PYTHONPATH=. python3 bench/bench_latency.py -c odoo.conf -d DB [--rate 50] [--seconds 60]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

import requests

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

PING = "mfg.integration.ping.v1"
TARGET_P95_MS = 250
SERVER_START_TIMEOUT = 120
# Time allowed after the last commit for the last deliveries to arrive.
DRAIN_TIMEOUT = 60
WINDOW = 5


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--rate", type=float, default=50.0, help="events committed per second (default: 50)")
    parser.add_argument("--seconds", type=float, default=60.0, help="duration of the load (default: 60)")
    return parser.parse_args()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """An Odoo server process on the bench database, with two cron threads (the two dispatcher slots)."""

    def __init__(self, config, database):
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="mfg-bench-latency-", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "odoo",
                "-c",
                config,
                "-d",
                database,
                f"--db-filter=^{database}$",
                "--workers=0",
                "--max-cron-threads=2",
                f"--http-port={self.port}",
                "--http-interface=127.0.0.1",
                f"--logfile={self.log.name}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self):
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/web/health", timeout=10).ok:
                    return
            except requests.RequestException:
                pass  # not listening yet, or too busy loading to answer
            if self.process.poll() is not None:
                break
            time.sleep(0.5)
        raise RuntimeError(f"the Odoo server did not start (log: {self.log.name})")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def problems(self):
        """Lines of the server log reporting an error or a traceback."""
        with open(self.log.name, encoding="utf-8", errors="replace") as log:
            return [line.rstrip() for line in log if " ERROR " in line or " CRITICAL " in line or "Traceback" in line]


class Emitter:
    """Commits PING events, one per transaction, to the bench endpoint through the normal routing."""

    def __init__(self, registry):
        self.registry = registry
        self.system_id = None
        self.endpoint_id = None

    def setup(self, url):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            event_type = env["mfg.integration.event.type"]._get_by_code(PING)
            system = env["mfg.integration.system"].create({"name": "Bench latency", "code": f"LAT-{time.time_ns()}"})
            endpoint = env["mfg.integration.endpoint"].create(
                {
                    "name": "bench latency",
                    "system_id": system.id,
                    "url": url,
                    "subscription_ids": [(0, 0, {"event_type_id": event_type.id})],
                }
            )
            self.system_id, self.endpoint_id = system.id, endpoint.id

    def stamp_claims(self):
        """Record when each message is claimed (the dispatcher stores no claim time): a trigger in this
        benchmark's database only, on the dispatcher's pending -> in progress update."""
        with self.registry.cursor() as cr:
            cr.execute(
                """
                CREATE TABLE IF NOT EXISTS bench_latency_claim (message_id int PRIMARY KEY, claimed_at timestamp);
                CREATE OR REPLACE FUNCTION bench_latency_stamp_claim() RETURNS trigger AS $$
                BEGIN
                    INSERT INTO bench_latency_claim VALUES (NEW.id, clock_timestamp() AT TIME ZONE 'UTC')
                        ON CONFLICT DO NOTHING;
                    RETURN NEW;
                END $$ LANGUAGE plpgsql;
                DROP TRIGGER IF EXISTS bench_latency_claim ON mfg_integration_message;
                CREATE TRIGGER bench_latency_claim AFTER UPDATE OF state ON mfg_integration_message
                   FOR EACH ROW WHEN (OLD.state = 'pending' AND NEW.state = 'in_progress')
                   EXECUTE FUNCTION bench_latency_stamp_claim();
                """
            )

    def stored_times(self):
        """{event id: (queued, claimed, recorded, request ms)}, times in seconds since the epoch."""
        with self.registry.cursor() as cr:
            cr.execute(
                """
                SELECT m.event_id, extract(epoch FROM m.queued_at), extract(epoch FROM c.claimed_at),
                       extract(epoch FROM m.done_at), a.duration_ms
                  FROM mfg_integration_message m
                  JOIN bench_latency_claim c ON c.message_id = m.id
                  JOIN mfg_integration_attempt a ON a.message_id = m.id
                 WHERE m.system_id = %s AND m.state = 'done'
                """,
                [self.system_id],
            )
            times = {event_id: tuple(map(float, rest)) for event_id, *rest in cr.fetchall()}
            cr.execute("DROP TRIGGER bench_latency_claim ON mfg_integration_message; DROP TABLE bench_latency_claim")
            return times

    def commit_one(self, label):
        """Emit one event in its own transaction; the wall-clock time its commit returned."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            endpoint = env["mfg.integration.endpoint"].browse(self.endpoint_id)
            env["mfg.integration.message"].emit(
                PING, endpoint, {"endpoint": endpoint.name, "system": "bench", "message": label}
            )
            cr.commit()
            return time.time()

    def teardown(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["mfg.integration.message"].search([("system_id", "=", self.system_id)]).unlink()
            env["mfg.integration.system"].browse(self.system_id).unlink()


def wait_for(receiver, count, timeout):
    deadline = time.monotonic() + timeout
    while len(receiver.received) < count and time.monotonic() < deadline:
        time.sleep(0.1)


def run_load(emitter, receiver, rate, seconds):
    """Commit ``rate`` events per second for ``seconds``; {label: commit time}."""
    committed = {}
    total = int(rate * seconds)
    started = time.monotonic()
    for index in range(total):
        pause = started + index / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        label = f"latency {index}"
        committed[label] = emitter.commit_one(label)
    return committed


def print_breakdown(stored, arrivals_by_event):
    """p50/p95 of each step of the delivery path (PostgreSQL's clock and this process's: one machine)."""
    steps = defaultdict(list)
    for event_id, (queued, claimed, recorded, request_ms) in stored.items():
        arrived = arrivals_by_event.get(event_id)
        if arrived is None:
            continue
        steps["queued -> claimed"].append((claimed - queued) * 1000)
        steps["claimed -> arrived"].append((arrived - claimed) * 1000)
        steps["arrived -> recorded"].append((recorded - arrived) * 1000)
        steps["request (sender's view)"].append(request_ms)
    if not steps:
        return
    print(f"  where the time goes ({len(steps['queued -> claimed'])} messages, from the stored timestamps):")
    for name, values in steps.items():
        print(f"    {name:<26} p50 {percentile(values, 0.5):7.1f} ms   p95 {percentile(values, 0.95):7.1f} ms")


def main():
    args = parse_args()
    odoo.tools.config.parse_config(["-c", args.config])
    from simulators.mfgsim.scripted_receiver import Receiver

    receiver = Receiver().start()
    emitter = Emitter(Registry(args.database))
    emitter.setup(receiver.url)
    emitter.stamp_claims()
    server = Server(args.config, args.database)
    stored = {}
    try:
        server.wait_ready()
        # Warm-up: the server's registry, the dispatcher and its connections are ready.
        emitter.commit_one("warm-up")
        wait_for(receiver, 1, SERVER_START_TIMEOUT)
        receiver.received.clear()
        committed = run_load(emitter, receiver, args.rate, args.seconds)
        wait_for(receiver, len(committed), DRAIN_TIMEOUT)
        time.sleep(1)  # the last answers recorded
        stored = emitter.stored_times()
    finally:
        server.stop()
        emitter.teardown()
        receiver.stop()
    arrivals = {}
    arrivals_by_event = {}
    for received in receiver.received:
        event = received.json()
        arrivals.setdefault(event["data"]["message"], received.at)
        arrivals_by_event.setdefault(event["id"], received.at)
    latencies = [(arrivals[label] - at) * 1000 for label, at in committed.items() if label in arrivals]
    # Where the slow ones are: a backlog grows over the windows, a hiccup shows in one.
    first = min(committed.values())
    windows = defaultdict(list)
    for label, at in committed.items():
        if label in arrivals:
            windows[int((at - first) // WINDOW)].append((arrivals[label] - at) * 1000)
    print(
        f"Odoo {odoo.release.version}, {len(committed)} events at {args.rate:g}/s for {args.seconds:g} s, "
        f"one transaction each, delivered by a server process with 2 dispatcher slots; load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    span = max(committed.values()) - first
    achieved = (len(committed) - 1) / span if span > 0 else 0.0
    print(f"  committed at {achieved:.1f} events/s (asked {args.rate:g}/s: lower means this process could not keep up)")
    print(f"  delivered: {len(latencies)} of {len(committed)}")
    if latencies:
        p50, p95, p99 = (percentile(latencies, fraction) for fraction in (0.5, 0.95, 0.99))
        worst = max(latencies)
        print(f"  commit -> delivered: p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {worst:.1f} ms")
        by_window = ", ".join(f"{percentile(values, 0.95):.0f}" for _index, values in sorted(windows.items()))
        print(f"  p95 per {WINDOW} s of load, ms: {by_window}")
        print(f"  p95 {p95:.1f} ms, target < {TARGET_P95_MS} ms: {'met' if p95 < TARGET_P95_MS else 'NOT met'}")
        print_breakdown(stored, arrivals_by_event)
    problems = server.problems()
    if problems:
        print(f"  the server logged {len(problems)} error lines, see {server.log.name}")
    else:
        os.unlink(server.log.name)


if __name__ == "__main__":
    main()
