"""Keep Odoo's cron threads dispatching: restart dead ones (threaded mode), wake new ones.

In threaded mode (``--workers=0``, what ``setup/run`` uses), an Odoo 18 cron thread dies for
good when its database connection breaks (a PostgreSQL restart: the ``LISTEN`` connection's
``poll()`` raises outside any ``try``), and with it the dispatcher. Prefork mode does not need
this: its arbiter respawns a dead cron worker. The watchdog looks every few seconds and starts
again, under the same name, a cron thread that was running and is gone, then wakes it.
At a server start (both modes), the new cron threads or workers are woken once, so that
messages already due are dispatched at once rather than at their first poll, a minute later.
"""

import logging
import threading
import time

import psycopg2

from odoo import sql_db
from odoo.service import server as odoo_server

_logger = logging.getLogger(__name__)
CHECK_EVERY = 5
FIRST_LOOK_EVERY = 0.1
CRON_PREFIX = "odoo.service.cron.cron"
_lock = threading.Lock()
_started = False


def ensure_started():
    """Once per server process: the watchdog in threaded mode; in prefork mode one wake-up of
    the cron workers. Both modes start their cron threads/workers after the registries load,
    so the dispatcher's wake-up at start (a NOTIFY) would reach no one: they would first
    look for due messages a minute later."""
    global _started
    server = odoo_server.server
    if not isinstance(server, (odoo_server.ThreadedServer, odoo_server.PreforkServer)):
        return
    with _lock:
        if _started:
            return
        _started = True
    if isinstance(server, odoo_server.ThreadedServer):
        threading.Thread(target=_watch, args=(server,), name="mfg-cron-watchdog", daemon=True).start()
    else:
        threading.Thread(target=_wake_prefork_cron_workers, name="mfg-cron-wake", daemon=True).start()


def _watch(server):
    seen = set()
    while True:
        # Until the server has spawned its cron threads, look often: a thread that died before
        # the watchdog first saw it (PostgreSQL restarted seconds after the start) would never
        # be known, so never started again.
        time.sleep(CHECK_EVERY if seen else FIRST_LOOK_EVERY)
        alive = {thread.name for thread in threading.enumerate() if thread.name.startswith(CRON_PREFIX)}
        if alive and not seen:
            _wake_cron_threads()  # the server has just started its cron threads
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


def _wake_prefork_cron_workers():
    """Prefork: wake the cron workers once forked, and again once the database is back after an
    outage (the arbiter respawns the workers that lost it; they would sleep a minute first)."""
    wake = (CHECK_EVERY, 3 * CHECK_EVERY)  # the workers need a moment to start listening
    _wake_cron_threads(after=wake)
    reachable = True
    while True:
        time.sleep(CHECK_EVERY)
        now_reachable = _database_reachable()
        if now_reachable and not reachable:
            _wake_cron_threads(after=wake)
        reachable = now_reachable


def _database_reachable():
    try:
        psycopg2.connect(**sql_db.connection_info_for("postgres")[1]).close()
    except psycopg2.Error:
        return False
    return True


def _wake_cron_threads(after=(CHECK_EVERY,)):
    """A new cron thread or worker sleeps a minute before its first look for jobs, unless notified
    (once it listens, hence the delays). A connection of its own, outside Odoo's pool: in prefork
    mode this runs in the arbiter, whose pool its forked workers inherit."""
    for delay in after:
        time.sleep(delay)
        try:
            connection = psycopg2.connect(**sql_db.connection_info_for("postgres")[1])
        except psycopg2.Error:
            _logger.warning("cannot wake the cron threads yet: the database is unreachable")
            continue
        try:
            connection.autocommit = True
            with connection.cursor() as cr:
                cr.execute("NOTIFY cron_trigger")
        finally:
            connection.close()
