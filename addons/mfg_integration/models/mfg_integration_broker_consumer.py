"""Broker consumers: the runner that keeps each one subscribed, and their state for monitoring.

The scheduled action *Integration: run broker consumers* runs every consumer that the broker addons
declare (``mfg.integration.system._mfg_broker_consumers``) in a thread of its own, each under a
PostgreSQL session advisory lock taken on a dedicated connection: exactly one runner per consumer
across all servers and workers, and a killed process releases its locks with its connections. A run
lasts ``time_budget`` seconds, then triggers the next one at once, so that there is no gap and the
heartbeat (what ``/health`` watches) stays fresh. State is kept in the database because, in prefork
mode, the worker serving ``/metrics`` is not the cron worker running the consumers.
"""

import logging
import threading
import time

import psycopg2

from odoo import SUPERUSER_ID, api, fields, models, sql_db

from ..lib import consumer as consumer_lib
from ..lib import payload

_logger = logging.getLogger(__name__)

RUN_BUDGET = 50  # seconds per cron run, like the dispatcher's
HEARTBEAT_EVERY = 5  # seconds between two state writes (and lock connection checks)
RESTART_DELAY = 2  # seconds before a consumer whose connection failed is started again
STOP_TIMEOUT = 15  # seconds a consumer gets to return once asked to stop
# /health reports a consumer down when its heartbeat is older than this (a run writes every
# HEARTBEAT_EVERY seconds; the next run starts right after the previous one).
HEARTBEAT_STALE_AFTER = 90


class MfgIntegrationBrokerConsumer(models.Model):
    """One broker consumer's state: written by its runner, read by the dashboard and /metrics."""

    _name = "mfg.integration.broker.consumer"
    _description = "Broker Consumer"
    _order = "key"

    key = fields.Char(required=True, readonly=True, index=True)
    system_id = fields.Many2one("mfg.integration.system", required=True, readonly=True, ondelete="cascade")
    company_id = fields.Many2one(related="system_id.company_id", store=True, index=True)
    transport = fields.Char(readonly=True)
    heartbeat_at = fields.Datetime(string="Last Heartbeat", readonly=True)
    connected = fields.Boolean(readonly=True)
    last_message_at = fields.Datetime(string="Last Message", readonly=True)
    message_count = fields.Integer(string="Messages Received", readonly=True)
    refused_count = fields.Integer(
        string="Messages Refused",
        readonly=True,
        help="Not stored in the inbox (not JSON, invalid, not allowed): sent to the transport's dead letter.",
    )
    last_error = fields.Char(readonly=True)

    _sql_constraints = [("key_unique", "UNIQUE(key)", "A broker consumer's key is unique.")]

    def _register_hook(self):
        """At server start, consumers start at once rather than at the cron's next poll."""
        super()._register_hook()
        if self.env["mfg.integration.system"]._mfg_broker_consumers():
            self._runner_cron()._trigger()

    def _runner_cron(self):
        # sudo: the scheduled action is a technical record only administrators can read.
        return self.env.ref("mfg_integration.ir_cron_run_broker_consumers").sudo()

    @api.model
    def _cron_run_broker_consumers(self, time_budget=RUN_BUDGET):
        """Run every declared consumer whose lock is free for ``time_budget`` seconds; returns the
        keys of the consumers this run held."""
        consumers = self.env["mfg.integration.system"]._mfg_broker_consumers()
        if not consumers:
            return []
        deadline = time.monotonic() + time_budget
        stop = threading.Event()
        runs = [_Run(self.env.registry, consumer, stop) for consumer in consumers]
        for run in runs:
            run.start()
        for run in runs:
            run.locked.wait()
        held = [run for run in runs if run.holds_lock]
        while held and time.monotonic() < deadline and not all(run.finished.is_set() for run in held):
            stop.wait(min(HEARTBEAT_EVERY, max(deadline - time.monotonic(), 0)))
            for run in held:
                run.check_lock()
            self._record_state(held)
        stop.set()
        for run in runs:
            run.thread.join(STOP_TIMEOUT)
        if held:
            # Figures only: the next run reports its heartbeat within seconds, /health sees no gap.
            self._record_state(held, final=True)
            # The next run starts now: consumers stay subscribed across runs. (Held elsewhere: the
            # cron's next poll looks again, a minute later, rather than spinning.)
            self._runner_cron()._trigger()
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return [run.consumer.key for run in held]

    @api.model
    def _record_state(self, runs, final=False):
        """Write the heartbeat and figures of the runs this process holds (``final``: the figures
        only), and commit."""
        now = fields.Datetime.now()
        # sudo: the runner (a scheduled action) writes technical state that users only read.
        states = self.sudo()
        existing = {state.key: state for state in states.search([("key", "in", [r.consumer.key for r in runs])])}
        for run in runs:
            consumer = run.consumer
            messages, refused, last_message_at = run.take_figures()
            values = {"last_error": payload.excerpt(consumer.last_error, 500) or False}
            if not final:
                values.update(heartbeat_at=now, connected=consumer.connected and run.alive())
            if last_message_at:
                values["last_message_at"] = last_message_at
            state = existing.get(consumer.key)
            if state:
                values["message_count"] = state.message_count + messages
                values["refused_count"] = state.refused_count + refused
                state.write(values)
            else:
                states.create(
                    dict(
                        values,
                        key=consumer.key,
                        system_id=consumer.system_id,
                        transport=consumer.transport,
                        message_count=messages,
                        refused_count=refused,
                    )
                )
        self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _down_consumer_keys(self, company_ids, system_id=None, stale_after=HEARTBEAT_STALE_AFTER):
        """Keys of the declared consumers of these companies' systems (or of ``system_id``) that are not
        connected to their broker or whose runner reported nothing for ``stale_after`` seconds (never
        started, runner stopped): what /health calls ``broker_consumer_down``."""
        consumers = self.env["mfg.integration.system"]._mfg_broker_consumers()
        # sudo: monitoring reads which systems subscribe and the runner's technical state, by company.
        systems = self.env["mfg.integration.system"].sudo().browse({c.system_id for c in consumers})
        wanted = {s.id for s in systems if s.company_id.id in company_ids and (not system_id or s.id == system_id)}
        keys = [c.key for c in consumers if c.system_id in wanted]
        states = {s.key: s for s in self.sudo().search([("key", "in", keys)])}
        limit = fields.Datetime.subtract(fields.Datetime.now(), seconds=stale_after)
        return [
            key
            for key in keys
            if key not in states
            or not states[key].connected
            or not states[key].heartbeat_at
            or states[key].heartbeat_at < limit
        ]


def store_received(registry, consumer, raw, attributes=None):
    """Store one received message in the inbox, in a transaction of its own committed before
    returning (the consumer acknowledges the message to its broker after this). Returns the
    inbox's outcome, or a refusal when the bytes are no event; raises when the message cannot be
    stored now (no active technical user, database unreachable): the broker keeps it."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        system = env["mfg.integration.system"].browse(consumer.system_id)
        user = system._broker_technical_user()
        if not user:
            raise RuntimeError(f"system {system.code} has no active technical user to receive its events as")
        event, refusal = consumer_lib.decode_event(raw, attributes, system.max_body_bytes)
        if refusal:
            outcome = refusal
        else:
            # As the system's technical user, like an event posted to the REST API.
            env = env(user=user.id, context={"allowed_company_ids": user.company_id.ids})
            outcome = env["mfg.integration.message"]._inbound_receive(system.with_env(env), event, prefer_async=True)
        cr.commit()  # pylint: disable=invalid-commit
    if consumer_lib.is_refused(outcome):
        _logger.warning(
            "broker consumer %s refused a message (%s): %s %s",
            consumer.key,
            outcome.kind,
            payload.log_safe(outcome.body.get("detail", "")),
            payload.log_safe(payload.excerpt(str(outcome.body.get("errors", "")), 500)),
        )
    return outcome


class _Run:
    """One consumer running in a thread of its own, under its advisory lock."""

    def __init__(self, registry, consumer, stop):
        self.registry = registry
        self.consumer = consumer
        self.stop = stop
        self.holds_lock = False
        self.lock_lost = False
        self.locked = threading.Event()  # set once the lock was tried
        self.finished = threading.Event()
        self._connection = None
        self._figures_lock = threading.Lock()
        self._messages = self._refused = 0
        self._last_message_at = None
        self.thread = threading.Thread(target=self._main, name=f"mfg-consumer-{consumer.key}", daemon=True)

    def start(self):
        self.thread.start()

    def alive(self):
        return self.holds_lock and not self.finished.is_set()

    def should_stop(self):
        return self.stop.is_set() or self.lock_lost

    def check_lock(self):
        """A session lock lives as long as its connection: if PostgreSQL dropped it, another runner
        may take the consumer over, so this one stops."""
        if self.finished.is_set():
            return
        try:
            with self._connection.cursor() as cr:
                cr.execute("SELECT 1")
        except psycopg2.Error:
            _logger.warning("broker consumer %s lost its lock connection: stopping it", self.consumer.key)
            self.lock_lost = True

    def take_figures(self):
        with self._figures_lock:
            figures = (self._messages, self._refused, self._last_message_at)
            self._messages = self._refused = 0
            self._last_message_at = None
        return figures

    def _store(self, raw, attributes=None):
        outcome = store_received(self.registry, self.consumer, raw, attributes)
        with self._figures_lock:
            self._messages += 1
            self._refused += consumer_lib.is_refused(outcome)
            self._last_message_at = fields.Datetime.now()
        return outcome

    def _main(self):
        try:
            self._connection = psycopg2.connect(**sql_db.connection_info_for(self.registry.db_name)[1])
            self._connection.autocommit = True
            with self._connection.cursor() as cr:
                cr.execute("SELECT pg_try_advisory_lock(%s, %s)", consumer_lib.lock_key(self.consumer.key))
                self.holds_lock = cr.fetchone()[0]
        except psycopg2.Error as error:
            _logger.warning("broker consumer %s: cannot take its lock: %s", self.consumer.key, error)
        finally:
            self.locked.set()
        try:
            while self.holds_lock and not self.should_stop():
                self._run_once()
                self.stop.wait(RESTART_DELAY)
        finally:
            self.consumer.connected = False
            self.finished.set()
            if self._connection is not None:
                self._connection.close()  # releases the lock

    def _run_once(self):
        try:
            self.consumer.run(self._store, self.should_stop)
        except Exception as error:  # noqa: BLE001 - any failure: log it, record it, start again
            _logger.warning("broker consumer %s failed: %s", self.consumer.key, payload.log_safe(error))
            self.consumer.last_error = f"{type(error).__name__}: {error}"
        finally:
            self.consumer.connected = False
