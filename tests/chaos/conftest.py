"""Chaos harness: real Odoo server processes (prefork, as in production), a real PostgreSQL
cluster that can be crashed, and a receiver that verifies every Standard Webhooks signature
and records every webhook-id. Run through ``setup/chaos``, which provides the cluster."""

import json
import os
import random
import subprocess
import sys
import time
from collections import defaultdict

import pytest
from standardwebhooks.webhooks import WebhookVerificationError

from simulators.mfgsim.receiver import REJECTED, verify_webhook
from simulators.mfgsim.scripted_receiver import Answer, HttpReceiver
from tests.harness import OdooServer, odoo_shell, required_env


class Receiver(HttpReceiver):
    """Verifies each request's signature, records each webhook-id with the bodies it came with.
    ``failure_rate``: share of requests answered 500 at random; ``delay``: seconds per answer."""

    def __init__(self, secret, failure_rate=0.0, delay=0.0, seed=7):
        super().__init__()
        self.secret = secret
        self.failure_rate = failure_rate
        self.random = random.Random(seed)
        self.ok, self.server_error = Answer(delay=delay), Answer(500, delay=delay)
        self.bodies = defaultdict(list)  # webhook-id -> bodies of its 2xx-answered requests
        self.bad_signatures = 0
        self.requests = 0
        self.first_after = None  # set by mark(): time of the first delivery after it
        self.committed = set()  # every event committed for this receiver so far, over all reports

    def respond(self, received):
        try:
            verify_webhook(self.secret, received.body, received.headers)
        except WebhookVerificationError:
            with self.lock:
                self.bad_signatures += 1
            return REJECTED
        webhook_id = {key.lower(): value for key, value in received.headers.items()}["webhook-id"]
        with self.lock:
            self.requests += 1
            if self.failure_rate and self.random.random() < self.failure_rate:
                return self.server_error
            self.bodies[webhook_id].append(received.body)
            if self.first_after is not None and self.first_after[1] is None:
                self.first_after[1] = time.monotonic()
        return self.ok

    def mark(self):
        """Remember the time of the next delivery from now on."""
        self.first_after = [time.monotonic(), None]

    def delivered_ids(self):
        with self.lock:
            return set(self.bodies)

    def wait_for(self, ids, timeout):
        """The wall-clock time when every id in ``ids`` had been delivered, or None after ``timeout``."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if ids <= self.delivered_ids():
                return time.time()
            time.sleep(0.02)
        return None

    def drain_time(self, ids, since, timeout):
        """Seconds from ``since`` (wall clock) until every id in ``ids`` had been delivered."""
        ids = set(ids)
        done = self.wait_for(ids, timeout)
        missing = len(ids - self.delivered_ids())
        assert done is not None, f"{missing} of {len(ids)} events still not delivered after {timeout} s"
        return done - since

    def report(self, name, committed, rolled_back=(), drain=None):
        """Print and check the figures of ``committed`` (phantoms: against everything committed so far)."""
        self.committed |= set(committed)
        with self.lock:
            delivered = set(self.bodies)
            duplicates = sum(len(bodies) - 1 for bodies in self.bodies.values())
            same_body = all(len(set(bodies)) == 1 for bodies in self.bodies.values())
        figures = {
            "scenario": name,
            "committed": len(committed),
            "unique_delivered": len(delivered & set(committed)),
            "duplicates_same_id": duplicates,
            "missing": len(set(committed) - delivered),
            "phantoms": len(delivered - self.committed),
            "rolled_back": len(rolled_back),
            "bad_signatures": self.bad_signatures,
            "time_to_drain_s": None if drain is None else round(drain, 2),
        }
        print(f"\nCHAOS {json.dumps(figures)}", flush=True)
        assert figures["missing"] == 0, figures
        assert figures["phantoms"] == 0, figures
        assert not set(rolled_back) & delivered, "a rolled-back event was sent"
        assert figures["bad_signatures"] == 0, figures
        assert same_body, "a duplicate carried another body: duplicates must be the same event"
        return figures


class Cluster:
    def __init__(self):
        self.pg_ctl = required_env("MFG_PG_CTL")
        self.data = required_env("MFG_PG_DATA")

    def restart_immediate(self):
        """Crash-restart PostgreSQL: every connection is cut, no clean shutdown."""
        log = os.path.join(self.data, "server.log")
        cmd = [self.pg_ctl, "-D", self.data, "-l", log, "-m", "immediate", "-w", "-t", "60", "restart"]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        # No pipes: the new postmaster would inherit them and the call would never return.
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)


class Hub:
    """What an operator and the business do to the database, through `odoo shell`."""

    def __init__(self, conf, db):
        self.conf, self.db = conf, db

    def shell(self, code, timeout=600):
        """Run ``code`` in ``odoo shell`` and commit; the value it printed last as ``RESULT <json>``."""
        stdout = odoo_shell(self.conf, self.db, code, timeout)
        lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
        return json.loads(lines[-1][len("RESULT ") :])

    def endpoint(self, url, secret, **policy):
        """A new system and endpoint delivering to ``url``, signing with ``secret``."""
        policy = dict({"timeout": 5.0, "backoff_base": 0.5, "backoff_cap": 2.0, "max_attempts": 30}, **policy)
        return self.shell(
            f"""
import json, uuid
code = "CHAOS-" + uuid.uuid4().hex[:8]
system = env["mfg.integration.system"].create({{"name": code, "code": code}})
endpoint = env["mfg.integration.endpoint"].create(
    dict({{"name": code, "system_id": system.id, "url": {url!r}}}, **{policy!r}))
endpoint._store_secret({secret!r})
print("RESULT " + json.dumps(endpoint.id))
"""
        )

    def emit(self, endpoint_id, count, *, rollback_every=0, per_transaction=1, pace=0.0):
        """Emit ``count`` committed events (``per_transaction`` per commit, ``pace`` seconds apart);
        with ``rollback_every`` = k, every k-th transaction emits one more event and rolls back."""
        return self.shell(
            f"""
import json, time
Message = env["mfg.integration.message"]
endpoint = env["mfg.integration.endpoint"].browse({endpoint_id})
committed, rolled_back, transaction = [], [], 0
while len(committed) < {count}:
    transaction += 1
    if {rollback_every} and transaction % {rollback_every} == 0:
        rolled_back += Message.emit("mfg.integration.ping.v1", endpoint,
            {{"endpoint": endpoint.name, "system": "chaos", "message": "rolled back"}},
            endpoints=endpoint).mapped("event_id")
        env.cr.rollback()
        continue
    batch = []
    for _i in range(min({per_transaction}, {count} - len(committed))):
        batch += Message.emit("mfg.integration.ping.v1", endpoint,
            {{"endpoint": endpoint.name, "system": "chaos", "message": str(len(committed) + len(batch))}},
            endpoints=endpoint).mapped("event_id")
    env.cr.commit()
    committed += batch
    if {pace}:
        time.sleep({pace})
print("RESULT " + json.dumps({{"committed": committed, "rolled_back": rolled_back, "at": time.time()}}))
"""
        )

    def states(self, endpoint_id):
        return self.shell(
            f"""
import json
env.cr.execute("SELECT state, count(*) FROM mfg_integration_message WHERE endpoint_id = %s GROUP BY state",
               [{endpoint_id}])
print("RESULT " + json.dumps(dict(env.cr.fetchall())))
"""
        )


@pytest.fixture(scope="session")
def hub():
    return Hub(required_env("MFG_ODOO_CONF"), required_env("MFG_CHAOS_DB"))


@pytest.fixture(scope="session")
def cluster():
    return Cluster()


@pytest.fixture
def server_factory(tmp_path_factory):
    servers = []
    log_dir = tmp_path_factory.mktemp("odoo_logs")

    def make(cron_workers=1, workers=1):
        conf, db = required_env("MFG_ODOO_CONF"), required_env("MFG_CHAOS_DB")
        servers.append(OdooServer(conf, db, log_dir, workers, cron_workers, log_level="warn"))
        return servers[-1]

    yield make
    for server in servers:
        server.stop()
    print(f"\nOdoo logs: {log_dir}", file=sys.stderr)


@pytest.fixture
def receivers():
    made = []

    def make(secret, **kwargs):
        made.append(Receiver(secret, **kwargs).start())
        return made[-1]

    yield make
    for receiver in made:
        receiver.stop()
