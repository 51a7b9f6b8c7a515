"""Black-box fixtures: a real Odoo server process on its own database.

setup/test exports MFG_ODOO_CONF (Odoo config of the throw-away cluster) and
MFG_BLACKBOX_DB (a copy of the freshly installed test database, so black-box
tests never touch the database pytest-odoo runs TransactionCase tests in).
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

STARTUP_TIMEOUT = 120  # seconds until /web/health must answer 200


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path, lines=60):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class OdooServer:
    base_url: str
    db: str
    conf: str
    log_path: Path
    process: subprocess.Popen | None = None  # the server process, for the tests that kill it

    def url(self, path):
        return self.base_url + path

    def odoo_shell(self, code, timeout=300):
        """Run ``code`` in ``odoo shell`` on the black-box database and commit.

        ``env`` is available as in the Odoo shell. Returns the shell's stdout
        (print JSON from ``code`` to get values back); fails the test on error.
        """
        # signal_changes: like any Odoo process after a request, tell the server its caches (e.g. the
        # routing of events to endpoints) are stale; the shell does not do it on its own.
        script = f"{code}\nenv.cr.commit()\nenv.registry.signal_changes()\n"
        proc = subprocess.run(
            [sys.executable, "-m", "odoo", "shell", "-c", self.conf, "-d", self.db, "--no-http", "--log-level=warn"],
            input=script,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            pytest.fail(f"odoo shell failed ({proc.returncode}):\n{proc.stderr[-4000:]}", pytrace=False)
        return proc.stdout


def _required_env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run black-box tests through setup/test", pytrace=False)
    return value


@contextlib.contextmanager
def odoo_server_process(conf, db, log_path, max_cron_threads=1):
    """A real Odoo server on ``db`` on a free port, until the ``with`` block ends (also used by tests/shift)."""
    port = _free_port()
    cmd = [
        sys.executable, "-m", "odoo", "-c", conf, "-d", db, f"--db-filter=^{db}$",
        "--http-interface=127.0.0.1", f"--http-port={port}",
        "--workers=0", f"--max-cron-threads={max_cron_threads}",
        f"--logfile={log_path}", "--log-level=info",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    server = OdooServer(f"http://127.0.0.1:{port}", db, conf, log_path, proc)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"Odoo server exited with {proc.returncode}:\n{_tail(log_path)}", pytrace=False)
            try:
                if requests.get(server.url("/web/health"), timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"Odoo server not healthy after {STARTUP_TIMEOUT}s:\n{_tail(log_path)}", pytrace=False)
            time.sleep(0.5)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        print(f"\nOdoo server log: {log_path}", file=sys.stderr)


@pytest.fixture(scope="session")
def odoo_server(tmp_path_factory):
    conf = _required_env("MFG_ODOO_CONF")
    db = _required_env("MFG_BLACKBOX_DB")
    with odoo_server_process(conf, db, tmp_path_factory.mktemp("odoo_server") / "odoo.log") as server:
        yield server
