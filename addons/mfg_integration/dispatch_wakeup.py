"""Wake-up of a running dispatcher when a message is emitted.

emit() sends ``NOTIFY mfg_integration_dispatch`` inside the business transaction: PostgreSQL delivers it
when that transaction commits, never after a rollback. A dispatcher with nothing due waits for it on a
LISTEN connection of its own instead of sleeping, so a message committed while a dispatcher runs is
claimed within milliseconds, not at its next poll. The connection lives for one dispatcher run only: an
idle listener that nobody reads would hold back PostgreSQL's notification queue.
"""

import logging
import os
import select
import threading
import time

import psycopg2

from odoo import sql_db
from odoo.tools import SQL

from odoo.addons.base.models.ir_cron import ODOO_NOTIFY_FUNCTION

_logger = logging.getLogger(__name__)

CHANNEL = "mfg_integration_dispatch"


class Listener:
    """``with Listener(dbname) as listener: listener.wait(seconds)`` (see the module's docstring)."""

    def __init__(self, dbname):
        self.dbname = dbname
        self.connection = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def wait(self, timeout):
        """Return when a message was emitted in the database (True) or after ``timeout`` seconds (False).

        The first call only starts listening and returns True at once: a message committed before the
        LISTEN took effect is found by the caller's next look for due messages."""
        if self.connection is None:
            return self._listen(timeout)
        try:
            if not self.connection.notifies:
                readable, _, _ = select.select([self.connection], [], [], timeout)
                if readable:
                    self.connection.poll()
            woken = bool(self.connection.notifies)
            self.connection.notifies.clear()
            return woken
        except (psycopg2.Error, OSError) as error:
            # PostgreSQL restarted or the connection broke: poll as before, listen again next time.
            _logger.info("Dispatcher wake-up connection lost (%s): polling until it is back", error)
            self.close()
            time.sleep(timeout)
            return False

    def _listen(self, timeout):
        try:
            _dbname, params = sql_db.connection_info_for(self.dbname)
            self.connection = psycopg2.connect(**params)
            self.connection.autocommit = True
            with self.connection.cursor() as cursor:
                cursor.execute(f"LISTEN {CHANNEL}")
        except psycopg2.Error as error:
            _logger.info("Dispatcher wake-up unavailable (%s): polling instead", error)
            self.close()
            time.sleep(timeout)
            return False
        return True

    def close(self):
        if self.connection is not None:
            try:
                self.connection.close()
            except psycopg2.Error:
                _logger.debug("closing the dispatcher wake-up connection failed", exc_info=True)
            self.connection = None


class _CronWorkersNotifier:
    """One connection per process to the 'postgres' database, kept open (see notify_cron_workers)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.connection = None
        self.pid = None

    def notify(self, dbname):
        with self.lock:
            for attempt in (1, 2):  # a connection broken by a PostgreSQL restart is opened again once
                try:
                    query = SQL("SELECT %s('cron_trigger', %s)", SQL.identifier(ODOO_NOTIFY_FUNCTION), dbname)
                    with self._connection().cursor() as cursor:
                        cursor.execute(query.code, query.params)
                    return
                except psycopg2.Error as error:
                    self._close()
                    if attempt == 2:
                        # Runs after the business commit: failing here would report a committed change as an
                        # error. The trigger rows are committed; the slots start at the next cron poll.
                        _logger.warning("Could not wake the cron workers (%s): the next cron poll will", error)

    def _connection(self):
        if self.connection is None or self.pid != os.getpid():  # never share a connection with a forked worker
            _dbname, params = sql_db.connection_info_for("postgres")
            self.connection = psycopg2.connect(**params)
            self.connection.autocommit = True
            with self.connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit TO OFF")
            self.pid = os.getpid()
        return self.connection

    def _close(self):
        if self.connection is not None and self.pid == os.getpid():
            try:
                self.connection.close()
            except psycopg2.Error:
                _logger.debug("closing the cron notification connection failed", exc_info=True)
        self.connection = None


_notifier = _CronWorkersNotifier()


def notify_cron_workers(dbname):
    """Wake the cron workers of every server (what ir.cron._notifydb does) for the triggers just
    committed in ``dbname``.

    The cron workers listen on the 'postgres' database. ir.cron._notifydb opens a new connection to it
    each time (Odoo's pool never keeps one to 'postgres') and commits with the default synchronous
    commit (a notifying transaction gets a transaction id, so it waits for a WAL flush): that connection
    and that disk sync were most of what emit() cost a business transaction. Here one connection per
    process stays open and notifies in autocommit without waiting for the flush: a notification lost
    in a crash only means the slots start at the next cron poll, and a server start wakes them anyway."""
    _notifier.notify(dbname)


def notify_cron_workers_in(dbname, seconds):
    """Wake the cron workers in ``seconds`` for a trigger committed for that moment: Odoo's cron
    workers look for jobs on a notification or once a minute, so a trigger for later (a lease's end,
    a retry) would otherwise wait for their next poll. A timer of this process, daemon: lost with
    it, the trigger row still starts the slots at the next poll."""
    timer = threading.Timer(max(seconds, 0.0), notify_cron_workers, args=(dbname,))
    timer.daemon = True
    timer.start()
