"""Benchmark: the outbound dispatcher against a bare HTTP loop, and across two Odoo servers.

Prints, for this machine, in one run:
 (a) messages per second of the dispatcher in this process (claimed, signed, sent, recorded,
     committed) beside a bare requests.Session POST loop to the same receiver: ratio, target >= 0.7;
     and where the dispatcher's time goes (SQL statements and CPU per message, time waiting for
     PostgreSQL, for answers, and in Python), from a second, profiled pass;
 (b) messages per second with one Odoo server process dispatching (prefork, one cron worker), then
     with two on the same database: ratio, target >= 1.6; each message delivered exactly once
     (webhook-ids counted at the receiver).

The receiver is bench/wire_receiver.py in its own process: an asyncio loop that only counts
webhook-ids, so that the sender is what is measured (the Python receiver of the tests costs
more CPU per request than the dispatcher, on the same two cores).

Run it through `setup/bench` (throw-away cluster and database), or directly:
    python3 bench/bench_dispatch.py -c odoo.conf -d DB [--messages 2000] [--parts ab]
"""

import argparse
import cProfile
import os
import pstats
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, namedtuple
from pathlib import Path

import psutil
import requests
from psycopg2.extensions import TRANSACTION_STATUS_IDLE

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

PING = "mfg.integration.ping.v1"
BENCH_DIR = Path(__file__).resolve().parent
# The odoo-bin script (prefork workers are started as `sys.executable sys.argv[0] ...`).
ODOO_BIN = str(Path(odoo.__file__).resolve().parent.parent / "odoo-bin")
DRAIN_TIMEOUT = 300
# Each dispatcher run logs what it sent (INFO): per-server shares of a measure.
DISPATCHER_LOGGER = "odoo.addons.mfg_integration.models.mfg_integration_message"
DISPATCHER_RUN = re.compile(r"Dispatcher run: (\d+) messages sent")
# pg_stat_activity is sampled this often during the two-server measure (what the backends wait for): a
# few dozen samples per measure, the sampling's own CPU (here and in its backend) kept from the servers'.
ACTIVITY_SAMPLE = 0.2
# Longer than the dispatcher's idle linger (IDLE_LINGER, 2 s): its run has ended and logged.
IDLE_WAIT = 4


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--messages", type=int, default=2000, help="messages per measure (default: 2000)")
    parser.add_argument("--parts", default="ab", help="which measures to run, e.g. 'a' (default: ab)")
    parser.add_argument("--repeat", type=int, default=1, help="times measure (b) is run (default: 1)")
    parser.add_argument(
        "--parallel", type=int, default=4, help="the endpoint's Parallel Deliveries (default: 4, the field's default)"
    )
    return parser.parse_args()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WireReceiver:
    """bench/wire_receiver.py in a child process."""

    def __enter__(self):
        self.proc = subprocess.Popen(
            [sys.executable, str(BENCH_DIR / "wire_receiver.py")], stdout=subprocess.PIPE, text=True
        )
        self.port = int(self.proc.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}/hook"
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait()

    def cpu(self):
        return process_cpu(psutil.Process(self.proc.pid))

    def counts(self):
        return requests.get(f"http://127.0.0.1:{self.port}/ids", timeout=10).json()

    def received(self):
        return requests.get(f"http://127.0.0.1:{self.port}/received", timeout=10).json()

    def arrivals(self, first):
        """Wall-clock times at which the POSTs came, from the ``first``-th on."""
        return requests.get(f"http://127.0.0.1:{self.port}/arrivals?from={first}", timeout=10).json()

    def wait_for(self, event_ids, received_before):
        """Wall-clock time when every one of ``event_ids`` had arrived, and the receiver's counts then.

        Polls the number of POSTs received (a few bytes) until ``event_ids`` may all be there, and only
        then reads every id's count (a document that grows with each id): polling that document every
        50 ms took CPU from the measured servers (the bench, the receiver and Odoo share two cores)."""
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while time.monotonic() < deadline:
            if self.received() - received_before >= len(event_ids):
                arrived_at = time.time()
                counts = self.counts()
                if all(event_id in counts for event_id in event_ids):
                    return arrived_at, counts
            time.sleep(0.05)
        missing = sum(event_id not in self.counts() for event_id in event_ids)
        raise RuntimeError(f"{missing} of {len(event_ids)} messages not delivered after {DRAIN_TIMEOUT} s")


class Hub:
    """The bench database, driven through the ORM in this process."""

    def __init__(self, database, parallel):
        self.registry = Registry(database)
        self.parallel = parallel

    def cursor(self):
        return self.registry.cursor()

    def postmaster(self):
        """The PostgreSQL cluster's postmaster (the parent of this process's backend)."""
        with self.cursor() as cr:
            cr.execute("SELECT pg_backend_pid()")
            return psutil.Process(cr.fetchone()[0]).parent()

    @staticmethod
    def env(cr):
        return api.Environment(cr, SUPERUSER_ID, {})

    def make_endpoint(self, url):
        with self.cursor() as cr:
            env = self.env(cr)
            event_type = env["mfg.integration.event.type"]._get_by_code(PING)
            system = env["mfg.integration.system"].create({"name": "Bench dispatch", "code": f"BD-{time.time_ns()}"})
            endpoint = env["mfg.integration.endpoint"].create(
                {
                    "name": "bench dispatch",
                    "system_id": system.id,
                    "url": url,
                    "max_parallel": self.parallel,
                    "subscription_ids": [(0, 0, {"event_type_id": event_type.id})],
                }
            )
            return system.id, endpoint.id

    def emit(self, endpoint_id, count):
        """Queue ``count`` pings in one transaction; their event ids and the commit's wall-clock time."""
        with self.cursor() as cr:
            env = self.env(cr)
            endpoint = env["mfg.integration.endpoint"].browse(endpoint_id)
            Message = env["mfg.integration.message"]
            event_ids = []
            for index in range(count):
                event_ids += Message.emit(
                    PING,
                    endpoint,
                    {"endpoint": endpoint.name, "system": "bench", "message": str(index)},
                    endpoints=endpoint,
                ).mapped("event_id")
            cr.commit()
            return event_ids, time.time()

    def dispatch(self):
        with self.cursor() as cr:
            return self.env(cr)["mfg.integration.message"]._cron_dispatch(batch_size=100, time_budget=600, linger=0)

    def last_body(self, endpoint_id):
        """The exact bytes the dispatcher sent for one message (the bare loop posts them)."""
        with self.cursor() as cr:
            env = self.env(cr)
            message = env["mfg.integration.message"].search([("endpoint_id", "=", endpoint_id)], limit=1)
            envelope = message._envelopes(message.event_type_id.ids)[message.event_type_id.id]
            return envelope.body(
                message.event_id, message.payload, message.create_date, message.subject,
                message.correlation_id, message.causation_id or None,
            )  # fmt: skip

    def drop_system(self, system_id):
        with self.cursor() as cr:
            cr.execute(
                "DELETE FROM mfg_integration_attempt WHERE message_id IN "
                "(SELECT id FROM mfg_integration_message WHERE system_id = %s)",
                [system_id],
            )
            cr.execute("DELETE FROM mfg_integration_message WHERE system_id = %s", [system_id])
            self.env(cr)["mfg.integration.system"].browse(system_id).unlink()

    def set_dispatch_slots(self, count):
        """Activate the first ``count`` dispatcher slots; returns the previous activity of each."""
        with self.cursor() as cr:
            env = self.env(cr)
            crons = [env.ref(xmlid) for xmlid in dispatch_slot_xmlids()]
            previous = [cron.active for cron in crons]
            for index, cron in enumerate(crons):
                cron.active = index < count
            return previous

    def restore_dispatch_slots(self, previous):
        with self.cursor() as cr:
            env = self.env(cr)
            for xmlid, active in zip(dispatch_slot_xmlids(), previous, strict=True):
                env.ref(xmlid).active = active


def dispatch_slot_xmlids():
    # Imported once the registry set the addons path up.
    from odoo.addons.mfg_integration.models.mfg_integration_message import DISPATCH_CRONS

    return DISPATCH_CRONS


def bare_loop(url, count, body):
    """Seconds and CPU seconds (this process) to POST ``body`` ``count`` times, one after the other."""
    session = requests.Session()
    started, cpu = time.perf_counter(), time.process_time()
    for index in range(count):
        headers = {"Content-Type": "application/cloudevents+json", "webhook-id": f"bare-{index}"}
        session.post(url, data=body, headers=headers, timeout=10)
    return time.perf_counter() - started, time.process_time() - cpu


def profile_figures(hub, endpoint_id, receiver, count):
    """Dispatch ``count`` messages under cProfile (main thread) and a statement counter."""
    received_before = receiver.received()
    event_ids, _at = hub.emit(endpoint_id, count)
    counts = Counter()
    execute, commit = odoo.sql_db.Cursor.execute, odoo.sql_db.Cursor.commit

    def counting_execute(cr, query, *args, **kwargs):
        counts["statements"] += 1
        counts["round trips"] += 1
        if not cr._cnx.autocommit and cr._cnx.info.transaction_status == TRANSACTION_STATUS_IDLE:
            counts["round trips"] += 1  # psycopg2 sends BEGIN first
        if "INSERT INTO mfg_integration_attempt" in str(getattr(query, "code", query)):
            counts["recordings"] += 1
        return execute(cr, query, *args, **kwargs)

    def counting_commit(cr):
        if cr._cnx.info.transaction_status != TRANSACTION_STATUS_IDLE:
            counts["round trips"] += 1  # COMMIT
        return commit(cr)

    odoo.sql_db.Cursor.execute, odoo.sql_db.Cursor.commit = counting_execute, counting_commit
    profiler = cProfile.Profile()
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        profiler.enable()
        sent = hub.dispatch()
        profiler.disable()
    finally:
        odoo.sql_db.Cursor.execute, odoo.sql_db.Cursor.commit = execute, commit
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    receiver.wait_for(event_ids, received_before)
    stats = pstats.Stats(profiler).stats
    seconds = {"postgresql": 0.0, "answers": 0.0}
    for (_file, _line, name), (_calls, _ncalls, tottime, _cumtime, _callers) in stats.items():
        if name in ("<method 'execute' of 'psycopg2.extensions.cursor' objects>",
                    "<method 'commit' of 'psycopg2.extensions.connection' objects>"):  # fmt: skip
            seconds["postgresql"] += tottime
        elif name == "<method 'acquire' of '_thread.lock' objects>":
            seconds["answers"] += tottime
    total = sum(entry[2] for entry in stats.values())
    per_message = 1000 / max(sent, 1)
    print(f"  profiled pass ({sent} messages, cProfile on the dispatcher's thread, slower than unprofiled):")
    print(
        f"    per message: SQL statements {counts['statements'] / max(sent, 1):.2f}, round trips to PostgreSQL "
        f"{counts['round trips'] / max(sent, 1):.2f} (BEGIN and COMMIT included); "
        f"answers recorded per statement {sent / max(counts['recordings'], 1):.1f}"
    )
    print(
        f"    per message: CPU {cpu * per_message:.2f} ms (all threads of this process), "
        f"wall {wall * per_message:.2f} ms"
    )
    print(
        f"    dispatcher thread per message: waiting for PostgreSQL {seconds['postgresql'] * per_message:.2f} ms, "
        f"for answers {seconds['answers'] * per_message:.2f} ms, "
        f"Python {(total - seconds['postgresql'] - seconds['answers']) * per_message:.2f} ms"
    )
    print("    top 12 functions by own time:")
    for (file, line, name), (_c, calls, tottime, _cum, _callers) in sorted(stats.items(), key=lambda item: -item[1][2])[
        :12
    ]:
        print(f"      {tottime * per_message:6.3f} ms/msg  {calls:7d} calls  {Path(file).name}:{line} {name}")


def measure_in_process(hub, receiver, messages):
    print("(a) dispatcher in this process vs a bare requests.Session loop, same receiver")
    system_id, endpoint_id = hub.make_endpoint(receiver.url)
    try:
        hub.emit(endpoint_id, 100)
        hub.dispatch()  # warm-up: connections, caches
        received_before = receiver.received()
        event_ids, _at = hub.emit(endpoint_id, messages)
        started, cpu = time.perf_counter(), time.process_time()
        sent = hub.dispatch()
        dispatcher_rate = sent / (time.perf_counter() - started)
        dispatcher_cpu = (time.process_time() - cpu) * 1000 / sent
        _done, counts = receiver.wait_for(event_ids, received_before)
        duplicates = sum(counts[event_id] - 1 for event_id in event_ids)
        bare_seconds, bare_cpu = bare_loop(receiver.url, messages, hub.last_body(endpoint_id))
        bare_rate, bare_cpu = messages / bare_seconds, bare_cpu * 1000 / messages
        print(
            f"  dispatcher: {dispatcher_rate:8.1f} msg/s, CPU {dispatcher_cpu:.3f} ms/msg "
            f"({sent} delivered, {duplicates} duplicates)"
        )
        print(f"  bare requests.Session loop: {bare_rate:8.1f} msg/s, CPU {bare_cpu:.3f} ms/msg")
        print(f"  ratio dispatcher / bare loop: {dispatcher_rate / bare_rate:.3f} (target >= 0.7)")
        print(f"  CPU ratio bare loop / dispatcher (less noisy on a loaded machine): {bare_cpu / dispatcher_cpu:.3f}")
        profile_figures(hub, endpoint_id, receiver, min(messages, 1000))
    finally:
        hub.drop_system(system_id)


class OdooServer:
    """One Odoo server process on the bench database: prefork, one HTTP and one cron worker."""

    def __init__(self, config, database, log_dir):
        port = free_port()
        self.log = Path(log_dir) / f"odoo-{port}.log"
        cmd = [
            sys.executable, ODOO_BIN, "-c", config, "-d", database, f"--db-filter=^{database}$",
            "--http-interface=127.0.0.1", f"--http-port={port}", f"--gevent-port={free_port()}",
            "--workers=1", "--max-cron-threads=1", f"--logfile={self.log}", "--log-level=warn",
            f"--log-handler={DISPATCHER_LOGGER}:INFO",
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
        self.health = f"http://127.0.0.1:{port}/web/health"

    def wait_ready(self, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Odoo exited with {self.proc.returncode}, see {self.log}")
            try:
                if requests.get(self.health, timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"Odoo not ready after {timeout} s, see {self.log}")

    def log_offset(self):
        return self.log.stat().st_size if self.log.exists() else 0

    def sent_since(self, offset):
        """Messages this server's dispatcher runs reported sent in its log after ``offset``."""
        with self.log.open(encoding="utf-8", errors="replace") as log:
            log.seek(offset)
            return sum(int(match[1]) for match in DISPATCHER_RUN.finditer(log.read()))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()  # the arbiter stops its workers
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def machine_cpu():
    """(busy, stolen, total) CPU seconds of the whole machine so far, all cores together (/proc/stat).

    Stolen: time the hypervisor gave this virtual machine's cores to others while they had work
    (a neighbour's load): a measure during which it is high was run on a slower machine."""
    with open("/proc/stat", encoding="ascii") as stat:
        user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in stat.readline().split()[1:9])
    hertz = os.sysconf("SC_CLK_TCK")
    busy = user + nice + system + irq + softirq
    return busy / hertz, steal / hertz, (busy + steal + idle + iowait) / hertz


def group_cpu(pgids):
    """CPU seconds used so far by the processes of the process groups ``pgids`` (and their reaped children)."""
    seconds = 0.0
    for stat_path in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_path.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[2]) in pgids:  # fields after "pid (comm)": state ppid pgrp ... utime(11) stime cutime cstime
            seconds += sum(int(value) for value in fields[11:15])
    return seconds / os.sysconf("SC_CLK_TCK")


def process_cpu(process):
    """CPU seconds used so far by ``process`` (psutil) and its reaped children."""
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def cluster_cpu(postmaster):
    """CPU seconds used so far by the PostgreSQL cluster, by kind of process: its live backends (client
    connections), its live background processes (WAL writer, checkpointer, autovacuum...), and the
    processes that ended (reaped by the postmaster: closed connections, autovacuum workers)."""
    seconds = Counter()
    times = postmaster.cpu_times()
    seconds["ended"] = times.children_user + times.children_system
    seconds["background"] = times.user + times.system
    for child in postmaster.children():
        try:
            kind = "backends" if child.cmdline()[0].startswith("postgres: odoo ") else "background"
            seconds[kind] += process_cpu(child)
        except (psutil.NoSuchProcess, IndexError):
            pass
    return seconds


def drain(hub, receiver, endpoint_id, messages, servers):
    """Messages per second from the commit of ``messages`` until the last one arrived, duplicates,
    cores of the machine busy meanwhile, and CPU milliseconds per message of the Odoo servers, of
    the receiver, of PostgreSQL and of this process (polling the receiver, sampling PostgreSQL)."""
    pgids = {server.proc.pid for server in servers}
    postmaster = hub.postmaster()
    received_before = receiver.received()
    event_ids, committed_at = hub.emit(endpoint_id, messages)
    # From the commit on (the emit's own CPU is not the dispatchers'): the servers are woken by it.
    busy, stolen, total = machine_cpu()
    odoo_cpu, receiver_cpu, postgres_cpu = group_cpu(pgids), receiver.cpu(), cluster_cpu(postmaster)
    bench_cpu = time.process_time()
    done_at, counts = receiver.wait_for(event_ids, received_before)
    bench_cpu = time.process_time() - bench_cpu
    busy_after, stolen_after, total_after = machine_cpu()
    arrivals = receiver.arrivals(received_before)
    per_message = 1000 / messages
    return DrainFigures(
        rate=messages / (done_at - committed_at),
        first_arrival=arrivals[0] - committed_at,
        steady_rate=(len(arrivals) - 1) / (arrivals[-1] - arrivals[0]),
        duplicates=sum(counts[event_id] - 1 for event_id in event_ids),
        cores=(busy_after - busy) / (total_after - total) * (os.cpu_count() or 1),
        stolen=(stolen_after - stolen) / (total_after - total) * (os.cpu_count() or 1),
        odoo_cpu=(group_cpu(pgids) - odoo_cpu) * per_message,
        receiver_cpu=(receiver.cpu() - receiver_cpu) * per_message,
        bench_cpu=bench_cpu * per_message,
        postgres_cpu=Counter(
            {kind: seconds * per_message for kind, seconds in (cluster_cpu(postmaster) - postgres_cpu).items()}
        ),
    )


DrainFigures = namedtuple(
    "DrainFigures",
    "rate first_arrival steady_rate duplicates cores stolen odoo_cpu receiver_cpu bench_cpu postgres_cpu",
)


class ActivitySampler:
    """Samples what the database's other active backends wait for, while the block runs."""

    def __init__(self, hub):
        self.hub = hub
        self.waits = Counter()
        self.samples = 0
        self.stop = threading.Event()

    def __enter__(self):
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def run(self):
        with self.hub.cursor() as cr:
            cr._cnx.autocommit = True
            while not self.stop.wait(ACTIVITY_SAMPLE):
                cr.execute(
                    """
                    SELECT COALESCE(wait_event_type || ':' || wait_event, 'CPU')
                      FROM pg_stat_activity
                     WHERE datname = current_database() AND pid != pg_backend_pid() AND state = 'active'
                       AND query NOT LIKE 'LISTEN%'
                    """
                )
                self.samples += 1
                self.waits.update(row[0] for row in cr.fetchall())

    def summary(self):
        top = ", ".join(f"{name} {count / self.samples:.2f}" for name, count in self.waits.most_common(5))
        return f"active backends on average: {sum(self.waits.values()) / max(self.samples, 1):.2f} ({top})"


def measure_servers(hub, receiver, config, database, messages):
    print("(b) Odoo server processes dispatching (prefork, one cron worker each, 2 dispatcher slots)")
    previous = hub.set_dispatch_slots(2)
    system_id, endpoint_id = hub.make_endpoint(receiver.url)
    servers = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-dispatch-") as log_dir:
            try:
                for count in (1, 2):
                    servers.append(OdooServer(config, database, log_dir))
                    servers[-1].wait_ready()
                    time.sleep(3)  # idle and listening for the wake-up
                    drain(hub, receiver, endpoint_id, 100, servers)  # warm-up
                    time.sleep(IDLE_WAIT)  # the warm-up's dispatcher runs end and log what they sent
                    offsets = [server.log_offset() for server in servers]
                    with ActivitySampler(hub) as activity:
                        figures = drain(hub, receiver, endpoint_id, messages, servers)
                    time.sleep(IDLE_WAIT)
                    shares = [server.sent_since(offset) for server, offset in zip(servers, offsets, strict=True)]
                    print(
                        f"  {count} server(s): {figures.rate:8.1f} msg/s ({messages} delivered, "
                        f"{figures.duplicates} duplicates); machine busy {figures.cores:.2f} of {os.cpu_count()} "
                        f"cores, {figures.stolen:.2f} taken by the hypervisor (load average {os.getloadavg()[0]:.1f})"
                    )
                    print(
                        f"    first message arrived {figures.first_arrival * 1000:.0f} ms after the commit; from the "
                        f"first arrival to the last: {figures.steady_rate:.1f} msg/s"
                    )
                    postgres = figures.postgres_cpu
                    cpu = figures.odoo_cpu + sum(postgres.values()) + figures.receiver_cpu
                    print(
                        f"    CPU ms/msg (cores busy): Odoo servers {figures.odoo_cpu:.2f} "
                        f"({figures.odoo_cpu * figures.rate / 1000:.2f}), PostgreSQL {sum(postgres.values()):.2f} "
                        f"({sum(postgres.values()) * figures.rate / 1000:.2f}; backends {postgres['backends']:.2f}, "
                        f"background {postgres['background']:.2f}, ended {postgres['ended']:.2f}), receiver "
                        f"{figures.receiver_cpu:.2f} ({figures.receiver_cpu * figures.rate / 1000:.2f}): {cpu:.2f} in "
                        f"all, so {os.cpu_count()} otherwise idle cores deliver at most "
                        f"{os.cpu_count() * 1000 / cpu:.0f} msg/s; this bench process {figures.bench_cpu:.2f} "
                        f"({figures.bench_cpu * figures.rate / 1000:.2f})"
                    )
                    print(f"    sent per server: {shares}; PostgreSQL {activity.summary()}")
                    if count == 1:
                        one, one_steady = figures.rate, figures.steady_rate
                print(f"  ratio two servers / one: {figures.rate / one:.3f} (target >= 1.6)")
                print(f"  ratio from the first arrival to the last: {figures.steady_rate / one_steady:.3f}")
                # Not a measure: the most two servers could do if they had both cores to themselves.
                print(
                    f"  bound by CPU: {os.cpu_count()} cores / {cpu:.2f} ms per message = "
                    f"{os.cpu_count() * 1000 / cpu:.0f} msg/s, {os.cpu_count() * 1000 / cpu / one:.2f} x one server"
                )
                return figures.rate / one
            finally:
                for server in servers:
                    server.stop()
    finally:
        hub.drop_system(system_id)
        hub.restore_dispatch_slots(previous)


def main():
    args = parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # figures appear as they are measured
    odoo.tools.config.parse_config(["-c", args.config])
    hub = Hub(args.database, args.parallel)
    with WireReceiver() as receiver:
        print(
            f"Odoo {odoo.release.version}, {args.messages} messages per measure, endpoint with {args.parallel} "
            "parallel deliveries, receiver bench/wire_receiver.py"
        )
        if "a" in args.parts:
            measure_in_process(hub, receiver, args.messages)
        if "b" in args.parts:
            ratios = [
                measure_servers(hub, receiver, args.config, args.database, args.messages) for _run in range(args.repeat)
            ]
            if len(ratios) > 1:
                print(
                    f"(b) ratios two servers / one: {', '.join(f'{ratio:.3f}' for ratio in ratios)}; "
                    f"median {statistics.median(ratios):.3f} (target >= 1.6)"
                )


if __name__ == "__main__":
    main()
