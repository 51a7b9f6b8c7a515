"""Threaded mode only: restart Odoo cron threads that died.

In threaded mode (``--workers=0``, what ``setup/run`` uses), an Odoo 18 cron thread dies for
good when its database connection breaks (a PostgreSQL restart: the ``LISTEN`` connection's
``poll()`` raises outside any ``try``), and with it the dispatcher. Prefork mode does not need
this: its arbiter respawns a dead cron worker. The watchdog looks every few seconds and starts
again, under the same name, a cron thread that was running and is gone, then wakes it.
"""

import logging
import threading
import time

import psycopg2

from odoo import sql_db
from odoo.service import server as odoo_server

_logger = logging.getLogger(__name__)
CHECK_EVERY = 5
CRON_PREFIX = "odoo.service.cron.cron"
_lock = threading.Lock()
_started = False


def ensure_started():
    """Start the watchdog once per threaded-mode server process (cron threads start after the
    registries load, so it watches whichever cron threads it sees running)."""
    global _started
    if not isinstance(odoo_server.server, odoo_server.ThreadedServer):
        return
    with _lock:
        if _started:
            return
        _started = True
    threading.Thread(target=_watch, args=(odoo_server.server,), name="mfg-cron-watchdog", daemon=True).start()


def _watch(server):
    seen = set()
    while True:
        time.sleep(CHECK_EVERY)
        alive = {thread.name for thread in threading.enumerate() if thread.name.startswith(CRON_PREFIX)}
        for name in sorted(seen - alive):
            _logger.warning("%s died (database connection lost?): starting it again", name)
            thread = threading.Thread(
                target=server.cron_thread, args=(int(name[len(CRON_PREFIX) :]),), name=name, daemon=True
            )
            thread.type = "cron"
            thread.start()
        if seen - alive:
            _wake_cron_threads()
        seen |= alive


def _wake_cron_threads():
    """A new cron thread sleeps a minute before its first look for jobs, unless notified."""
    time.sleep(CHECK_EVERY)  # let it LISTEN first
    try:
        with sql_db.db_connect("postgres").cursor() as cr:
            cr.execute("NOTIFY cron_trigger")
    except psycopg2.Error:
        _logger.warning("cannot wake the cron threads yet: the database is still unreachable")
