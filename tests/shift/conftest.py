"""The CI shift: the demo plant on its own database, a real Odoo server, the simulators for a compressed shift.

setup/test exports MFG_SHIFT_DB (a copy of the freshly installed test database); the demo addon is installed
on it here, so that only a run that includes the shift pays for it.
"""

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from simulators.mfgsim.journal import read_journal
from simulators.planner import OdooRpc
from tests.blackbox.conftest import _required_env, _tail, odoo_server_process

SEED = 7
PERIOD = 100  # seconds of the shift's fault cycle; the planner releases during its first 75 %
DRAIN = 25  # the plants finish the released orders
PACE = 1.5  # seconds between two steps of a counterpart
SETTLE_TIMEOUT = 150  # seconds for the hub to deliver what is still queued (retries wait for the dispatcher cron)
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
    errors = [line for line in _tail(log_path, 400).splitlines() if " ERROR " in line or " CRITICAL " in line]
    if proc.returncode or errors:
        pytest.fail(f"installing the demo addon failed:\n{_tail(log_path)}", pytrace=False)


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


def _settle(rpc):
    """Wait until nothing is queued or being applied any more (the dispatcher cron runs every minute)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    open_states = [("state", "in", ["pending", "in_progress", "retry"])]
    while rpc("mfg.integration.message", "search_count", open_states) and time.monotonic() < deadline:
        time.sleep(2)


@pytest.fixture(scope="module")
def shift(tmp_path_factory):
    conf = _required_env("MFG_ODOO_CONF")
    db = _required_env("MFG_SHIFT_DB")
    work = tmp_path_factory.mktemp("shift")
    started = time.monotonic()
    _install_demo(conf, db, work / "install.log")
    with odoo_server_process(conf, db, work / "odoo.log") as server:
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
        simulators = subprocess.run(
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
                str(PERIOD + DRAIN),
            ],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=PERIOD + DRAIN + 120,
            check=False,
        )
        assert simulators.returncode == 0, simulators.stderr[-4000:]
        assert credentials.read_text() not in simulators.stdout + simulators.stderr
        rpc = OdooRpc(server.base_url, db, "admin", "admin")
        _settle(rpc)
        duration = time.monotonic() - started
        print(
            f"\nCI shift: {duration:.0f} s (install, server, {PERIOD + DRAIN} s of simulators, settle)", file=sys.stderr
        )
        yield Shift(rpc, journal_dir, duration)
        print(f"simulators' journals: {journal_dir}", file=sys.stderr)
