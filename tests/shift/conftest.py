"""The CI shift: the demo plant on its own database, a real Odoo server, the simulators for a compressed shift.

setup/test exports MFG_SHIFT_DB (a copy of the freshly installed test database); the demo addon is installed
on it here, so that only a run that includes the shift pays for it.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from simulators.mfgsim.journal import read_journal
from simulators.planner import OdooRpc
from tests.harness import odoo_server_process, required_env, tail

SEED = 7
PERIOD = 80  # seconds of the shift's fault cycle; the planner releases during its first 75 %
PACE = 1.5  # seconds between two steps of a counterpart
SETTLE_TIMEOUT = 240  # seconds after the cycle for the plants to close every order and the hub to deliver the rest
OPEN_STATES = ["pending", "in_progress", "retry"]
OPEN_DELIVERIES = [("picking_type_code", "=", "outgoing"), ("state", "not in", ["done", "cancel"])]
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Shift:
    rpc: OdooRpc
    journal_dir: Path
    duration: float

    def journal(self, component):
        path = self.journal_dir / f"{component}.jsonl"
        return read_journal(path) if path.exists() else []

    def read(self, model, domain, fields, **kwargs):
        return self.rpc(model, "search_read", domain, fields=fields, **kwargs)


def _install_demo(conf, db, log_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "odoo",
            "-c",
            conf,
            "-d",
            db,
            "-i",
            "mfg_integration_demo",
            "--stop-after-init",
            "--no-http",
            "--log-level=warn",
            f"--logfile={log_path}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in tail(log_path, 400).splitlines() if " ERROR " in line or " CRITICAL " in line]
    if proc.returncode or errors:
        pytest.fail(f"installing the demo addon failed:\n{tail(log_path)}", pytrace=False)


def _free_port_range(count):
    """The first of ``count`` free consecutive ports, below Linux's ephemeral range (32768+) so that no
    outgoing connection takes one before the simulators' receivers bind them."""
    for base in range(20000 + os.getpid() % 1000 * 10, 32000, count):
        sockets = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    pytest.fail("no free range of ports for the simulators' receivers", pytrace=False)


def _wait_for_the_planner(journal, simulators):
    """The planner's release window is over (at least a few orders released, support's fix done)."""
    deadline = time.monotonic() + PERIOD + SETTLE_TIMEOUT
    while time.monotonic() < deadline:
        if simulators.poll() is not None:
            pytest.fail(f"the simulators stopped early ({simulators.returncode})", pytrace=False)
        if journal.exists() and any(e["what"] == "shift released" for e in read_journal(journal)):
            return
        time.sleep(2)
    pytest.fail("the planner never finished its shift", pytrace=False)


def _settle(rpc, simulators):
    """Wait, counterparts still up, until every order is closed, every delivery shipped and nothing is queued or
    being applied (a retry waits for the dispatcher cron, which runs every minute)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    quiet = 0
    while time.monotonic() < deadline:
        if simulators.poll() is not None:
            pytest.fail(f"the simulators stopped early ({simulators.returncode})", pytrace=False)
        open_orders = rpc("mrp.production", "search_count", [("state", "not in", ["done", "cancel"])])
        open_deliveries = rpc("stock.picking", "search_count", OPEN_DELIVERIES)
        open_messages = rpc("mfg.integration.message", "search_count", [("state", "in", OPEN_STATES)])
        quiet = quiet + 1 if not open_orders and not open_deliveries and not open_messages else 0
        if quiet == 2:  # twice in a row: no post was in flight at the first look
            return
        time.sleep(2)
    pytest.fail(
        f"not settled after {SETTLE_TIMEOUT} s: {open_orders} orders, {open_deliveries} deliveries,"
        f" {open_messages} messages open"
    )


@pytest.fixture(scope="module")
def shift(tmp_path_factory):
    conf = required_env("MFG_ODOO_CONF")
    db = required_env("MFG_SHIFT_DB")
    work = tmp_path_factory.mktemp("shift")
    started = time.monotonic()
    _install_demo(conf, db, work / "install.log")
    with odoo_server_process(conf, db, work) as server:
        credentials = work / "credentials.json"  # outside the repository, mode 0600
        receivers = server.odoo_shell(
            "from odoo.addons.mfg_integration_demo.demo_plant import provision_counterparts\n"
            f"provision_counterparts(env, {str(credentials)!r}, {server.base_url!r}, {_free_port_range(5)})\n"
            "print('PROVISIONED')\n"
        )
        assert "PROVISIONED" in receivers
        assert oct(credentials.stat().st_mode & 0o777) == "0o600"
        journal_dir = work / "journal"
        journal_dir.mkdir()
        # The simulators' own shift ends long after the settling: this fixture stops them once all is settled.
        simulators = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "simulators.run",
                "--credentials",
                str(credentials),
                "--database",
                db,
                "--journal-dir",
                str(journal_dir),
                "--seed",
                str(SEED),
                "--period",
                str(PERIOD),
                "--pace",
                str(PACE),
                "--duration",
                str(PERIOD + 2 * SETTLE_TIMEOUT),
            ],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            _wait_for_the_planner(journal_dir / "PLANNER.jsonl", simulators)
            rpc = OdooRpc(server.base_url, db, "admin", "admin")
            _settle(rpc, simulators)
        finally:
            simulators.send_signal(signal.SIGTERM)
            output = simulators.communicate(timeout=60)[0]
        assert simulators.returncode == 0, output[-4000:]
        assert json.loads(credentials.read_text())["systems"]["MES-NP"]["api_key"] not in output
        duration = time.monotonic() - started
        print(f"\nCI shift: {duration:.0f} s (demo install, server, {PERIOD} s cycle, settling)", file=sys.stderr)
        yield Shift(rpc, journal_dir, duration)
        print(f"simulators' journals: {journal_dir}", file=sys.stderr)
