"""What the black-box, chaos and CI shift suites share: real Odoo server processes on a database of
the throw-away cluster their setup script made, and the ``odoo shell`` an operator would use.

setup/test and setup/chaos export MFG_ODOO_CONF (the cluster's Odoo config) and the databases
(MFG_BLACKBOX_DB, MFG_SHIFT_DB, MFG_CHAOS_DB).
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

import odoo

STARTUP_TIMEOUT = 180  # seconds until /web/health must answer 200
# The odoo-bin script, not `python -m odoo`: prefork mode starts its gevent worker as
# `sys.executable sys.argv[0] gevent`, which fails when argv[0] is odoo/__main__.py.
ODOO_BIN = str(Path(odoo.__file__).resolve().parent.parent / "odoo-bin")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def required_env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run these tests through setup/test (tests/chaos: setup/chaos)", pytrace=False)
    return value


def tail(path, lines=60):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def odoo_shell(conf, db, code, timeout=300):
    """Run ``code`` in ``odoo shell`` on ``db`` and commit; ``env`` is available as in the Odoo shell.

    Returns the shell's stdout (print JSON from ``code`` to get values back); fails the test on error.
    """
    # signal_changes: like any Odoo process after a request, tell the running servers their caches (e.g. the
    # routing of events to endpoints) are stale; the shell does not do it on its own.
    script = f"{code}\nenv.cr.commit()\nenv.registry.signal_changes()\n"
    proc = subprocess.run(
        [sys.executable, "-m", "odoo", "shell", "-c", conf, "-d", db, "--no-http", "--log-level=warn"],
        input=script,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"odoo shell failed ({proc.returncode}):\n{proc.stderr[-4000:]}", pytrace=False)
    return proc.stdout


class OdooServer:
    """One real Odoo server on ``db`` on a free port: threaded mode (``workers=0``, as ``setup/run``) or
    prefork mode (HTTP and cron workers respawned by the arbiter, as the README recommends for production).
    It can be started again (on a new port, with a new log file) after ``stop`` or ``kill9``."""

    def __init__(self, conf, db, log_dir, workers=0, cron_workers=2, log_level="info"):
        self.conf, self.db, self.log_dir = conf, db, Path(log_dir)
        self.workers, self.cron_workers, self.log_level = workers, cron_workers, log_level
        self.proc = None
        self.port = None
        self.log_path = None
        self.starts = 0

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def url(self, path):
        return self.base_url + path

    def odoo_shell(self, code, timeout=300):
        return odoo_shell(self.conf, self.db, code, timeout)

    def start(self):
        self.port = free_port()
        self.starts += 1
        self.log_path = self.log_dir / f"odoo-{self.port}-{self.starts}.log"
        cmd = [
            sys.executable, ODOO_BIN, "-c", self.conf, "-d", self.db, f"--db-filter=^{self.db}$",
            "--http-interface=127.0.0.1", f"--http-port={self.port}", f"--gevent-port={free_port()}",
            f"--workers={self.workers}", f"--max-cron-threads={self.cron_workers}",
            f"--logfile={self.log_path}", f"--log-level={self.log_level}",
        ]  # fmt: skip
        # A session of its own: stop and kill9 reach the prefork workers too.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"Odoo exited with {self.proc.returncode}:\n{tail(self.log_path)}", pytrace=False)
            try:
                if requests.get(self.url("/web/health"), timeout=5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.5)
        self.stop()
        pytest.fail(f"Odoo not healthy after {STARTUP_TIMEOUT}s:\n{tail(self.log_path)}", pytrace=False)
        return self

    def kill9(self):
        """kill -9 of the whole server (arbiter and workers): no clean-up of any kind."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@contextlib.contextmanager
def odoo_server_process(conf, db, log_dir, **options):
    """A started ``OdooServer`` (``options``: see its constructor) until the ``with`` block ends."""
    server = OdooServer(conf, db, log_dir, **options)
    try:
        yield server.start()
    finally:
        server.stop()
        print(f"\nOdoo server logs: {log_dir}", file=sys.stderr)
