"""What every simulator process shares: its credentials, its journal, its seeded randomness, the fault schedule."""

import argparse
import json
import random
import signal
import threading
import time
import zlib
from pathlib import Path

from .client import HubClient, HubError
from .journal import Journal
from .receiver import WebhookReceiver

# Faults, as fractions of the schedule's period: windows (start, end) and one-shot moments (at,). An outage lasts
# at least its window and until it has hit something, so that a slow machine still sees every fault.
FAULTS = {
    "receiver_5xx": (0.05, 0.45),  # the South MES's receiver answers 503 (Retry-After: 2)
    "unknown_article": (0.20,),  # the WMS reports an article Odoo has no mapping for
    "mes_offline": (0.30, 0.50),  # the North MES loses its uplink: buffers, then flushes through /events/batch
    "duplicate_post": (0.55,),  # the North MES posts an event it already sent
    "support_fix": (0.70,),  # support adds the missing mapping and reprocesses the exception
}
RELEASE_UNTIL = 0.75  # in a shift (one period), the planner releases no new order after this


class Schedule:
    """Fault windows repeating every ``period`` seconds from ``start`` (only in the first period with
    ``once``: a shift); ``faults=False`` disables them."""

    def __init__(self, period, start, faults=True, once=False):
        self.period = period
        self.start = start
        self.faults = faults
        self.once = once
        self.fired = set()
        self.lock = threading.Lock()

    def phase(self, now=None):
        """(cycle, fraction of the period). A shift (``once``) stays in its one cycle: past its end, every
        window is over and a one-shot fault not done yet (nothing to hit before) is still due."""
        elapsed = (time.time() if now is None else now) - self.start
        if self.once:
            return 0, min(elapsed / self.period, 0.9999)
        return int(elapsed // self.period), (elapsed % self.period) / self.period

    def active(self, fault, now=None):
        start, end = FAULTS[fault]
        _cycle, phase = self.phase(now)
        return self.faults and start <= phase < end

    def due(self, fault, now=None):
        """True from the fault's moment until ``done(fault)`` in this period."""
        cycle, phase = self.phase(now)
        with self.lock:
            return self.faults and phase >= FAULTS[fault][0] and (fault, cycle) not in self.fired

    def done(self, fault, now=None):
        cycle, _phase = self.phase(now)
        with self.lock:
            self.fired.add((fault, cycle))

    def due_once(self, fault, now=None):
        """True once per period, at the fault's moment or after it."""
        if not self.due(fault, now):
            return False
        self.done(fault, now)
        return True


def arguments(description, **extra):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--credentials", required=True, help="JSON file written by the demo addon (mode 0600)")
    parser.add_argument("--journal-dir", required=True, help="where the JSON-lines journal goes")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--period", type=float, default=300.0, help="seconds of one fault cycle (a shift)")
    parser.add_argument("--start", type=float, default=None, help="epoch seconds the schedule starts (shared)")
    parser.add_argument(
        "--duration", type=float, default=0.0, help="a shift: stop this many seconds after the start, faults once"
    )
    parser.add_argument("--pace", type=float, default=5.0, help="seconds between two steps of a counterpart")
    parser.add_argument("--no-faults", action="store_true")
    for name, kwargs in extra.items():
        parser.add_argument(f"--{name.replace('_', '-')}", **kwargs)
    return parser.parse_args()


class Counterpart:
    """One external system: ``system`` is its key in the credentials file."""

    def __init__(self, args, system):
        self.args = args
        self.system = system
        credentials = json.loads(Path(args.credentials).read_text(encoding="utf-8"))
        self.hub_url = credentials["hub_url"]
        # People (the planner) log in to Odoo; systems hold an API key and a webhook secret.
        self.config = credentials["systems"].get(system)
        self.client = self.config and HubClient(self.hub_url, self.config["api_key"], self.config["source"])
        self.journal = Journal(Path(args.journal_dir) / f"{system}.jsonl", system)
        self.random = random.Random(args.seed * 1000 + zlib.crc32(system.encode()))
        self.schedule = Schedule(
            args.period, args.start or time.time(), faults=not args.no_faults, once=bool(args.duration)
        )
        self.stopping = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())

    def post(self, event_type, data, note=None):
        """Post one event now; journal the answer. Returns the response."""
        event = self.client.event(event_type, data)
        return self.send(event, note)

    def send(self, event, note=None):
        """Post ``event`` and journal the answer; None (journaled as unanswered) when the hub stays out of reach."""
        try:
            response = self.client.post(event)
        except HubError as error:
            self.journal.write(
                "unanswered", event_id=event["id"], type=event["type"], data=event["data"], error=str(error)
            )
            return None
        body = response.json() if response.headers.get("Content-Type", "").endswith("json") else {}
        self.journal.write(
            "posted",
            event_id=event["id"],
            type=event["type"],
            time=event["time"],
            data=event["data"],
            status=response.status_code,
            replayed=response.headers.get("Idempotent-Replayed") == "true",
            message_id=body.get("message_id"),
            detail=body.get("detail"),
            note=note,
        )
        return response

    def winding_down(self):
        """In a shift, past the release window: finish what is under way, start nothing new."""
        cycle, phase = self.schedule.phase()
        return bool(self.args.duration) and (cycle > 0 or phase >= RELEASE_UNTIL)

    def sleep(self, seconds):
        """Wait, unless the process is stopping; False when it is."""
        return not self.stopping.wait(seconds)

    def run_until_stopped(self, tick):
        """Call ``tick()`` every pace until SIGTERM/Ctrl-C or the duration is over."""
        deadline = self.schedule.start + self.args.duration if self.args.duration else None
        while not self.stopping.is_set() and (deadline is None or time.time() < deadline):
            tick()
            self.sleep(self.args.pace)
        self.journal.write("stopped")


class ReceivingCounterpart(Counterpart):
    """A system that also receives the hub's webhooks, on its port, into ``on_event(event, webhook_id)``."""

    def __init__(self, args, system):
        super().__init__(args, system)
        self.receiver = WebhookReceiver(
            self.config["receiver_port"], self.config["webhook_secret"], self.on_event, self.journal
        )

    def on_event(self, event, webhook_id):
        raise NotImplementedError

    def tick(self):
        """One step of the system's own work, every pace."""
        raise NotImplementedError

    def serve_until_stopped(self):
        """Receive webhooks and ``tick`` until stopped (see ``run_until_stopped``)."""
        self.receiver.start()
        self.journal.write("started", port=self.config["receiver_port"])
        try:
            self.run_until_stopped(self.tick)
        finally:
            self.receiver.stop()
