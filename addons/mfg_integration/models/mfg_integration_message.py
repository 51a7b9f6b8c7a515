import functools
import logging
import random
import time
import uuid
from collections import deque, namedtuple
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED, ISOLATION_LEVEL_REPEATABLE_READ

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

from .. import cron_watchdog, dispatch_wakeup
from ..lib import circuit, cloudevents, payload
from ..lib.delivery import Delivery, InFlight, decide, take_group

_logger = logging.getLogger(__name__)

STATES = [
    ("pending", "Pending"),
    ("in_progress", "In Progress"),
    ("done", "Delivered / Processed"),
    ("retry", "Failed, Will Retry"),
    ("dead", "Dead Letter"),
    ("cancelled", "Cancelled"),
]
OPEN_STATES = ("pending", "in_progress", "retry")
# A claimed message's lease: renewed every LEASE_RENEWAL seconds while its dispatcher is
# alive (sending or waiting its turn), so a killed dispatcher's messages are claimed again
# within LEASE_SECONDS, whatever the endpoints' timeouts.
LEASE_SECONDS = 30
LEASE_RENEWAL = 10
# The dispatcher cron slots: each runs as its own cron job, so that several cron threads,
# workers and servers dispatch at once (an ir.cron record runs in one place at a time).
# Active slots are configured by (de)activating these scheduled actions.
DISPATCH_CRONS = tuple(f"mfg_integration.ir_cron_dispatch{suffix}" for suffix in ("", "_2", "_3", "_4"))
CONSUMER_RUNNER_CRON = "mfg_integration.ir_cron_run_broker_consumers"
# The PostgreSQL clock: timestamps of the delivery path (leases, latency) come from one
# clock, to the microsecond, whatever the Odoo servers' clocks say.
DB_NOW = SQL("(clock_timestamp() AT TIME ZONE 'UTC')")
# A dispatcher with nothing due keeps polling (every LINGER_STEP seconds) for retries or a
# circuit's probe due within LINGER seconds, instead of leaving them to the next cron poll.
LINGER = 60
LINGER_STEP = 1.0
# The dispatcher's claims and records commit without waiting for their WAL flush: a
# PostgreSQL crash may forget the last fraction of a second of them, which only sends those
# messages again, with the same webhook-id (at least once, as after a dispatcher crash),
# while each commit saves a disk flush on the hot path.
NO_FLUSH_WAIT = "SET LOCAL synchronous_commit TO OFF;"
# A dispatcher that found nothing due stays this long (at most ``linger``) listening for new messages
# (see dispatch_wakeup): under a steady flow, each is claimed as soon as it is committed, without a
# new cron run per message.
IDLE_LINGER = 2
# Slots woken by the same message start together: with the same budget they would all end their
# run at the same moment, and the next messages would wait for a cron thread to start one again
# (the latency bench showed a 3-s p95 at that moment). Each run ends somewhere in the last part
# of its budget, so one slot keeps delivering while another restarts.
BUDGET_SPREAD = 0.8
# Requests one dispatcher has in flight at once, all endpoints together.
MAX_PARALLEL_SENDS = 16
# Successes are gathered for this long (at most GATHER_MAX of them) before they are recorded together:
# one statement for several answers, while the next sends are already out. Each answer keeps the
# time it came (done_at, latency_ms); a failure is recorded at once (it may open a circuit).
GATHER_SECONDS = 0.005
GATHER_MAX = 64
# Who hears about an event: from the routing cache, so emit() reads no configuration record.
Route = namedtuple("Route", "endpoint_id company_id system_id")
# Retention purge: finished messages older than the retention go, PURGE_BATCH per transaction.
PURGED_STATES = ("done", "cancelled")
DEFAULT_RETENTION_DAYS = 30
PURGE_BATCH = 2000


@contextmanager
def statements_committed_alone(cr):
    """Each statement run in the block is a transaction of its own, committed by PostgreSQL when
    it ends: one round trip, where psycopg2's BEGIN, the statement and the COMMIT take three.
    Only between transactions, for statements that are whole on their own (a claim, a recording,
    a release); what must lock, then write, runs in ``one_transaction``."""
    cr.connection.autocommit = True  # psycopg2 refuses it inside a transaction
    try:
        yield
    finally:
        if not cr.connection.closed:  # a connection lost to a PostgreSQL restart: its error goes up as it is
            cr.connection.autocommit = False


@contextmanager
def one_transaction(cr):
    """Inside ``statements_committed_alone``: the block's statements in one transaction, committed
    at its end (rolled back on an error)."""
    cr.connection.autocommit = False
    try:
        yield
        cr.commit()
    except Exception:
        if not cr.connection.closed:
            cr.rollback()
        raise
    finally:
        if not cr.connection.closed:
            cr.connection.autocommit = True


def _follow_circuits(circuit_states, opened_circuits, policies):
    """Keep a dispatcher pass's view of its endpoints' circuits after a recording: an endpoint
    whose circuit opened has its waiting deliveries released; one closed again sends again."""
    for endpoint_id, circuit_state in circuit_states.items():
        if circuit_state == "open":
            opened_circuits.add(endpoint_id)
        elif circuit_state == "closed":
            # A success (perhaps of a request sent before the circuit opened) closed it again.
            opened_circuits.discard(endpoint_id)
            policies[endpoint_id].failing = False


class MfgIntegrationMessage(models.Model):
    """One integration message, outbound (outbox) or inbound (inbox)."""

    _name = "mfg.integration.message"
    _description = "Integration Message"
    _inherit = ["mail.thread"]
    _order = "id desc"

    event_id = fields.Char(
        string="Event ID",
        required=True,
        index=True,
        readonly=True,
        default=lambda self: str(uuid.uuid4()),
        help="CloudEvents id: stable across retries and replays of the same event.",
    )
    # Direction and state have no index of their own: every message is written twice on its way
    # (claimed, then answered), each time into every index, and the queries that filter on them use
    # the partial indexes of init, which hold only the states they look for.
    direction = fields.Selection([("outbound", "Outbound"), ("inbound", "Inbound")], required=True, readonly=True)
    event_type_id = fields.Many2one(
        "mfg.integration.event.type", required=True, ondelete="restrict", index=True, readonly=True
    )
    system_id = fields.Many2one("mfg.integration.system", index=True, readonly=True, ondelete="restrict")
    endpoint_id = fields.Many2one("mfg.integration.endpoint", index=True, readonly=True, ondelete="restrict")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True, default=lambda self: self.env.company
    )
    state = fields.Selection(STATES, required=True, default="pending")
    subject = fields.Char(readonly=True, help="What the event is about, e.g. the order reference.")
    payload = fields.Text(
        readonly=True, help="Canonical JSON of the event data (outbound) or of the received event (inbound)."
    )
    payload_sha256 = fields.Char(string="Payload SHA-256", readonly=True)
    payload_pretty = fields.Text(compute="_compute_payload_pretty", string="Payload (formatted)")
    # Indexed together (mfg_integration_message_res_idx), not each alone: see init.
    res_model = fields.Char(string="Record Model", readonly=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="res_model", readonly=True)
    record_ref = fields.Reference(selection="_selection_record_ref", compute="_compute_record_ref", string="Record")
    correlation_id = fields.Char(index=True, readonly=True)
    causation_id = fields.Char(readonly=True)
    idempotency_key = fields.Char(index="btree_not_null", readonly=True)  # inbound only
    attempt_count = fields.Integer(readonly=True)
    next_attempt_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    claimed_until = fields.Datetime(readonly=True, copy=False)
    queued_at = fields.Datetime(
        readonly=True, copy=False, help="When the message was queued, to the microsecond (PostgreSQL's clock)."
    )
    first_attempt_at = fields.Datetime(readonly=True)
    done_at = fields.Datetime(readonly=True)
    latency_ms = fields.Integer(string="Latency (ms)", readonly=True, help="From creation to delivery or processing.")
    last_error = fields.Text(readonly=True)
    last_http_status = fields.Integer(string="Last HTTP Status", readonly=True)
    attempt_ids = fields.One2many("mfg.integration.attempt", "message_id", string="Attempts", readonly=True)
    replay_of_id = fields.Many2one("mfg.integration.message", readonly=True, index="btree_not_null")

    _sql_constraints = [
        (
            "waiting_has_due_time",
            "CHECK (state NOT IN ('pending', 'retry') OR next_attempt_at IS NOT NULL)",
            "A message waiting to be sent needs a next attempt time.",
        ),
    ]

    def init(self):
        # Set by PostgreSQL at INSERT, with microseconds (the ORM stores whole seconds):
        # latency_ms is measured from it on the same clock.
        self.env.cr.execute(SQL("ALTER TABLE mfg_integration_message ALTER COLUMN queued_at SET DEFAULT %s", DB_NOW))
        # The dispatcher's claim reads its batch in this order and stops there (LIMIT), whatever the
        # backlog; messages in flight are not in it, or every claim would first step over them all.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS mfg_integration_message_claim_idx
                ON mfg_integration_message (next_attempt_at, id)
             WHERE direction = 'outbound' AND state IN ('pending', 'retry')
            """
        )
        # The claim's expired leases (a dead dispatcher's messages): only the messages in flight.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS mfg_integration_message_lease_idx
                ON mfg_integration_message (claimed_until)
             WHERE direction = 'outbound' AND state = 'in_progress'
            """
        )
        # The index both replace, which held messages in flight among the due ones.
        self.env.cr.execute("DROP INDEX IF EXISTS mfg_integration_message_due_idx")
        # The messages of given records (badges and smart buttons of orders, transfers...): one
        # index on both columns, since a model alone matches a third of a table of millions.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS mfg_integration_message_res_idx
                ON mfg_integration_message (res_model, res_id)
            """
        )
        # The single-column indexes it replaces (Odoo keeps an index its field no longer asks for),
        # which the planner would otherwise still pick for a model's messages.
        self.env.cr.execute(
            "DROP INDEX IF EXISTS mfg_integration_message__res_model_index, mfg_integration_message__res_id_index"
        )
        # The support's lists (Failed, Dead Letters, Inbound Exceptions), newest first: a page of
        # them reads its 80 rows from this small index, not every failed message of the backlog.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS mfg_integration_message_failed_idx
                ON mfg_integration_message (id)
             WHERE state IN ('retry', 'dead', 'waiting')
            """
        )
        # The retention purge walks only finished messages, oldest first.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS mfg_integration_message_purge_idx
                ON mfg_integration_message (create_date)
             WHERE state IN ('done', 'cancelled')
            """
        )
        # The indexes of earlier versions that these replace (Odoo keeps an index its field no
        # longer asks for, and does not rebuild one whose definition changed).
        self.env.cr.execute(
            "DROP INDEX IF EXISTS mfg_integration_message__direction_index, mfg_integration_message__state_index"
        )
        self.env.cr.execute(
            """
            SELECT 1 FROM pg_indexes
             WHERE indexname = 'mfg_integration_message__idempotency_key_index' AND indexdef NOT LIKE '%WHERE%'
            """
        )
        if self.env.cr.fetchone():
            self.env.cr.execute("DROP INDEX mfg_integration_message__idempotency_key_index")
            tools.create_index(
                self.env.cr,
                "mfg_integration_message__idempotency_key_index",
                "mfg_integration_message",
                ["idempotency_key"],
                where="idempotency_key IS NOT NULL",
            )
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS mfg_integration_message_record_idx
                ON mfg_integration_message (endpoint_id, res_model, res_id, id)
             WHERE state IN ('pending', 'retry', 'in_progress')
            """
        )

    @api.model
    def _selection_record_ref(self):
        return [(model.model, model.name) for model in self.env["ir.model"].sudo().search([])]

    @api.depends("res_model", "res_id")
    def _compute_record_ref(self):
        for message in self:
            if message.res_model in self.env and message.res_id:
                message.record_ref = f"{message.res_model},{message.res_id}"
            else:
                message.record_ref = False

    @api.depends("payload")
    def _compute_payload_pretty(self):
        for message in self:
            message.payload_pretty = payload.pretty_json(message.payload) if message.payload else False

    @api.depends("event_type_id", "subject")
    def _compute_display_name(self):
        for message in self:
            message.display_name = " ".join(filter(None, [message.event_type_id.code, message.subject]))

    # -- access --------------------------------------------------------------

    def _check_manager(self):
        if not self.env.user.has_group("mfg_integration.group_mfg_integration_manager"):
            raise AccessError(self.env._("Only Integration Managers may do this."))

    # -- outbox --------------------------------------------------------------

    @api.model
    def emit(self, event_type_code, record, data, *, endpoints=None, subject=None):
        """Queue an outbound event about ``record`` for every subscribed endpoint.

        Runs inside the caller's transaction and only INSERTs: the event is sent
        after the transaction commits, and never if it rolls back. ``data`` may be a
        callable building the payload: it is called only when an endpoint subscribed.
        Raises SchemaViolation when the data does not match the type's schema.
        """
        # sudo: the catalog and the endpoints are configuration any business user's
        # action may fan out to; the user's right on ``record`` was checked by the caller.
        event_type = self.env["mfg.integration.event.type"].sudo()._get_by_code(event_type_code, "outbound")
        if not event_type:
            raise UserError(self.env._("Unknown outbound event type %(code)s.", code=event_type_code))
        if endpoints is None:
            routes = self._subscribed_routes(event_type, record)
        else:
            routes = [Route(endpoint.id, endpoint.company_id.id, endpoint.system_id.id) for endpoint in endpoints]
        if not routes:
            return self.browse()
        if callable(data):
            data = data()
        event_type.ensure_valid(data)
        system_ids = list(dict.fromkeys(route.system_id for route in routes))
        # sudo: the receiving systems' code mappings are configuration; the emitting user (a planner, a
        # technical user applying an event) may not read them, and only their codes go into the payload.
        systems = self.env["mfg.integration.system"].sudo().browse(system_ids)
        payloads = self._payloads_per_system(event_type, data, systems)
        return self._insert_outbound(event_type, record, routes, payloads, subject or record.display_name)

    @api.model
    def _insert_outbound(self, event_type, record, routes, payloads, subject):
        """INSERT one pending message per route, and wake the dispatchers, in one round trip.

        Plain SQL on purpose: it runs in the planner's transaction. It stores what the ORM create did
        (defaults, company, record reference, create/write uid and date, no chatter tracking), and
        leaves the ORM cache untouched (the returned records are read from the table when used).
        """
        context = self.env.context
        now = SQL("now() AT TIME ZONE 'UTC'")
        self.env.cr.execute(
            SQL(
                """
                %(wakeup)s
                INSERT INTO mfg_integration_message (
                    direction, state, event_type_id, event_id, subject, res_model, res_id, correlation_id,
                    causation_id, next_attempt_at, create_uid, write_uid, create_date, write_date,
                    endpoint_id, system_id, company_id, payload, payload_sha256)
                SELECT 'outbound', 'pending', %(event_type)s, %(event_id)s, %(subject)s, %(res_model)s, %(res_id)s,
                       %(correlation)s, %(causation)s, %(now)s, %(uid)s, %(uid)s, %(now)s, %(now)s,
                       r.endpoint_id, r.system_id, r.company_id, r.payload, r.payload_sha256
                  FROM unnest(%(endpoints)s::int[], %(systems)s::int[], %(companies)s::int[], %(payloads)s::text[],
                              %(digests)s::varchar[])
                       WITH ORDINALITY AS r(endpoint_id, system_id, company_id, payload, payload_sha256, position)
                 ORDER BY r.position
             RETURNING id
                """,
                wakeup=self._dispatch_wakeup_sql(),
                event_type=event_type.id,
                event_id=str(uuid.uuid4()),
                subject=subject,
                res_model=record._name,
                res_id=record.id,
                correlation=context.get("mfg_correlation_id") or str(uuid.uuid4()),
                causation=context.get("mfg_causation_id"),
                now=now,
                uid=self.env.uid,
                endpoints=[route.endpoint_id for route in routes],
                systems=[route.system_id for route in routes],
                companies=[route.company_id for route in routes],
                payloads=[payloads[route.system_id]["payload"] for route in routes],
                digests=[payloads[route.system_id]["payload_sha256"] for route in routes],
            )
        )
        # sudo: as the ORM create returned them before (messages are written by the integration layer on
        # behalf of any user, their content comes from our mappers): callers read what they queued.
        return self.sudo().browse(sorted(row[0] for row in self.env.cr.fetchall()))

    @api.model
    def _payloads_per_system(self, event_type, data, systems):
        """{system id: {payload, payload_sha256}}: ``data`` in each system's codes, serialized
        once for all the systems that have no mapping to apply."""

        def serialized(value):
            text = payload.canonical_json(value)
            return {"payload": text, "payload_sha256": payload.sha256_hex(text)}

        untranslated = None
        payloads = {}
        for system in systems:
            system_data = event_type._data_for_system(data, system)
            if system_data is data:
                untranslated = untranslated or serialized(data)
                payloads[system.id] = untranslated
            else:
                payloads[system.id] = serialized(system_data)
        return payloads

    @api.model
    def _subscribed_endpoints(self, event_type, record):
        """The endpoints that hear about ``record`` for ``event_type`` (see _subscribed_routes)."""
        endpoints = self.env["mfg.integration.endpoint"].sudo()
        return endpoints.browse([route.endpoint_id for route in self._subscribed_routes(event_type, record)])

    @api.model
    def _subscribed_routes(self, event_type, record):
        """Routes (endpoint, company, system) of the endpoints that hear about ``record``: read from
        the routing cache, so that emit() reads no configuration record in the planner's transaction."""
        # Records without a company (shared partners, products) belong to the user's company here.
        company = (record.company_id if "company_id" in record._fields else None) or self.env.company
        routes = []
        for endpoint_id, company_id, system_id, domain in self._subscriptions_for(event_type.code):
            if company_id != company.id:
                continue
            if domain and not record.filtered_domain(domain):
                continue
            routes.append(Route(endpoint_id, company_id, system_id))
        return self._filter_routes_for_record(routes, record) if routes else routes

    @api.model
    def _filter_routes_for_record(self, routes, record):
        """Hook for domain addons: drop the routes (``Route`` tuples) of endpoints that must not
        hear about ``record`` (e.g. another plant's systems). Use cached configuration only."""
        return routes

    @api.model
    @tools.ormcache("event_type_code")
    def _subscriptions_for(self, event_type_code):
        # Cached: emit() runs in the planner's transaction; the cache is cleared
        # whenever endpoints or subscriptions change. The filters are parsed here, once
        # (safe_eval compiles its text: most of what routing cost per event).
        for model in ("mfg.integration.subscription", "mfg.integration.endpoint", "mfg.integration.system"):
            self.env[model].flush_model()
        self.env.cr.execute(
            """
            SELECT e.id, e.company_id, e.system_id, s.filter_domain
              FROM mfg_integration_subscription s
              JOIN mfg_integration_endpoint e ON e.id = s.endpoint_id
              JOIN mfg_integration_event_type t ON t.id = s.event_type_id
              JOIN mfg_integration_system y ON y.id = e.system_id
             WHERE t.code = %s AND e.active AND y.active
             ORDER BY e.id
            """,
            [event_type_code],
        )
        return tuple(
            (endpoint_id, company_id, system_id, tuple(safe_eval(domain_text)) if domain_text else ())
            for endpoint_id, company_id, system_id, domain_text in self.env.cr.fetchall()
        )

    @api.model
    def _trigger_dispatch_once(self):
        """Wake the dispatchers right after this transaction commits (see _dispatch_wakeup_sql)."""
        wakeup = self._dispatch_wakeup_sql()
        if wakeup:
            self.env.cr.execute(wakeup)

    @api.model
    def _dispatch_wakeup_sql(self):
        """The statements that wake the dispatchers after this transaction commits, once per transaction
        (empty after the first call): a running dispatcher through a NOTIFY (PostgreSQL delivers it at
        commit, never after a rollback, see dispatch_wakeup), every active idle slot through a trigger
        row; then, after the commit, one notification to the cron workers for all the slots (see
        notify_cron_workers). Run by the caller, in the same round trip as its own statement."""
        flags = self.env.cr.precommit.data
        if flags.get("mfg_integration.dispatch_triggered"):
            return SQL()
        flags["mfg_integration.dispatch_triggered"] = True
        self.env.cr.postcommit.add(functools.partial(dispatch_wakeup.notify_cron_workers, self.env.cr.dbname))
        return SQL(
            """
            INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, write_uid, create_date, write_date)
            SELECT id, now() AT TIME ZONE 'UTC', %(uid)s, %(uid)s, now() AT TIME ZONE 'UTC',
                   now() AT TIME ZONE 'UTC'
              FROM ir_cron
             WHERE active AND id = ANY(%(slots)s);
            NOTIFY %(channel)s;
            """,
            uid=self.env.uid,
            slots=list(self._dispatch_slot_ids()),
            channel=SQL.identifier(dispatch_wakeup.CHANNEL),
        )

    @api.model
    def _dispatch_slot_ids(self):
        """Ids of the dispatcher slots' scheduled actions, active or not (no query: cached xmlids)."""
        ids = (self.env["ir.model.data"]._xmlid_to_res_id(xmlid, raise_if_not_found=False) for xmlid in DISPATCH_CRONS)
        return tuple(filter(None, ids))

    @api.model
    def _dispatch_crons(self):
        # sudo: the scheduled actions are technical records only administrators can read.
        crons = self.env["ir.cron"].sudo()
        for xmlid in DISPATCH_CRONS:
            crons |= self.env.ref(xmlid, raise_if_not_found=False) or crons.browse()
        return crons.filtered("active")

    def _register_hook(self):
        """At server start, messages already due are dispatched at once, not at the next poll,
        and a dead dispatcher's leases are taken over as soon as they expire."""
        super()._register_hook()
        cron_watchdog.ensure_started()
        self.env.cr.execute(
            SQL(
                """
                SELECT bool_or(state IN ('pending', 'retry') AND next_attempt_at <= %s),
                       min(claimed_until) FILTER (WHERE state = 'in_progress')
                  FROM mfg_integration_message
                 WHERE direction = 'outbound' AND state IN ('pending', 'retry', 'in_progress')
                """,
                DB_NOW,
            )
        )
        due, lease_end = self.env.cr.fetchone()
        # Leases of a dispatcher that is gone: a run now lingers until they end and takes them over
        # (see _seconds_until_next_due); the wake-up at their end is for a run that stopped before.
        for cron in self._dispatch_crons() if due or lease_end else ():
            cron._trigger()
        if lease_end:
            self._wake_slots_in((lease_end - fields.Datetime.now()).total_seconds())

    @api.model
    def _wake_slots_in(self, seconds):
        """Start the dispatcher slots in ``seconds``: a trigger for then, one second later since a
        trigger keeps whole seconds rounded down (the run must find the retry due or the lease
        ended), and a timer waking the cron workers then: they read a trigger for later only at
        their next poll, up to a minute after."""
        at = fields.Datetime.now() + timedelta(seconds=seconds + 1)
        for cron in self._dispatch_crons():
            cron._trigger(at)
        dispatch_wakeup.notify_cron_workers_in(self.env.cr.dbname, seconds + 1)

    # -- dispatcher ----------------------------------------------------------

    @api.model
    def _cron_dispatch(self, batch_size=50, time_budget=50, linger=LINGER):
        """Deliver due outbound messages until none is due or the time budget is spent.

        Commits after the claim and after recording the answers that arrived: a crash
        never forgets a recorded delivery, and no transaction is open while receivers answer.
        The budget is short so that the cron's last run (what /health watches) stays recent.
        """
        started = time.monotonic()
        deadline = started + time_budget * random.uniform(BUDGET_SPREAD, 1.0)
        self._next_transaction()
        try:
            sent = self._dispatch_until(deadline, batch_size, linger)
            if sent:
                _logger.info("Dispatcher run: %s messages sent in %.1f s", sent, time.monotonic() - started)
            return sent
        finally:
            # The cron runner goes on with this cursor: back to Odoo's isolation level
            # (this ends the transaction, committed or failed, that the dispatcher left open).
            self.env.cr.connection.set_isolation_level(ISOLATION_LEVEL_REPEATABLE_READ)

    @api.model
    def _dispatch_until(self, deadline, batch_size, linger):
        sent = 0
        with (
            ThreadPoolExecutor(max_workers=MAX_PARALLEL_SENDS, thread_name_prefix="mfg-dispatch") as pool,
            dispatch_wakeup.Listener(self.env.cr.dbname) as listener,
        ):
            busy_at = time.monotonic()
            while time.monotonic() < deadline:
                sent_now = self._send_due(pool, deadline, batch_size)
                if sent_now:
                    sent += sent_now
                    busy_at = time.monotonic()
                    continue
                idle_for = time.monotonic() - busy_at
                if idle_for >= min(linger, IDLE_LINGER):
                    next_due = self._seconds_until_next_due(linger)
                    if next_due is None:
                        return sent
                    other_waiting = self._other_cron_waiting()
                    self._next_transaction()
                    if other_waiting:
                        # Lingering would hold a cron thread another scheduled action (inbound
                        # messages, alerts...) waits for: leave the next retry to a wake-up.
                        self._wake_slots_in(next_due)
                        self._next_transaction()
                        return sent
                # Woken by a message emitted meanwhile, or after a short step for retries coming due.
                listener.wait(min(LINGER_STEP, max(deadline - time.monotonic(), 0)))
        if self._seconds_until_next_due(linger) is not None:
            # Budget spent with work ahead: the next run starts now, not at the next cron poll.
            for cron in self._dispatch_crons():
                cron._trigger()
            self._next_transaction()
        return sent

    @api.model
    def _other_cron_waiting(self):
        """Whether a scheduled action other than the dispatcher slots and the broker consumers'
        runner is due: the two long runners give their cron thread to it (a running slot or
        runner looks due too, so they never count). Reads in the caller's transaction."""
        own = [*self._dispatch_slot_ids(), self.env["ir.model.data"]._xmlid_to_res_id(CONSUMER_RUNNER_CRON)]
        self.env.cr.execute(
            SQL(
                """
                SELECT EXISTS (
                    SELECT 1
                      FROM ir_cron c
                     WHERE c.active AND c.id != ALL(%(slots)s)
                       AND (c.nextcall <= now() AT TIME ZONE 'UTC'
                            OR EXISTS (SELECT 1 FROM ir_cron_trigger t
                                        WHERE t.cron_id = c.id AND t.call_at <= now() AT TIME ZONE 'UTC'))
                )
                """,
                slots=own,
            )
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _seconds_until_next_due(self, horizon):
        """Seconds until the next outbound message becomes due (its retry time, its endpoint's
        probe time, or the end of another dispatcher's lease: a killed one's messages are taken
        over then, not at the next cron poll), looking at most ``horizon`` seconds ahead; None
        when none is."""
        self.env.cr.execute(
            SQL(
                """
                WITH clock AS (SELECT %(now)s AS now)
                SELECT extract(epoch FROM least(
                           (SELECT min(GREATEST(m.next_attempt_at, e.circuit_open_until))
                              FROM mfg_integration_message m
                              JOIN mfg_integration_endpoint e ON e.id = m.endpoint_id
                             WHERE m.direction = 'outbound' AND m.state IN ('pending', 'retry') AND e.active
                               AND GREATEST(m.next_attempt_at, e.circuit_open_until)
                                   BETWEEN clock.now AND clock.now + make_interval(secs => %(horizon)s)),
                           (SELECT min(m.claimed_until)
                              FROM mfg_integration_message m
                             WHERE m.direction = 'outbound' AND m.state = 'in_progress'
                               AND m.claimed_until
                                   BETWEEN clock.now AND clock.now + make_interval(secs => %(horizon)s))
                       ) - clock.now)
                  FROM clock
                """,
                now=DB_NOW,
                horizon=horizon,
            )
        )
        seconds = self.env.cr.fetchone()[0]
        self._next_transaction()
        return None if seconds is None else float(seconds)

    @api.model
    def _send_due(self, pool, deadline, batch_size):
        """Claim due messages by batches and send them in parallel (up to each endpoint's limit)
        through each endpoint's transport, recording the verdicts as they come and renewing the
        leases of what is still ours, until no full batch is due or the deadline passed.

        The next batch is claimed as soon as every message of the last one is sent, while the
        last answers are still coming: the senders never wait for a claim. Only the transports
        run in the pool's threads; the ORM stays in this thread. A batched transport (a broker)
        gets all the waiting deliveries of an endpoint in one call: it publishes them all, then
        waits for their acknowledgements. The answers that arrived together are recorded
        together (one statement, one round trip, see statements_committed_alone).
        Runs between transactions.
        """
        waiting = deque()
        in_flight = InFlight(pool, MAX_PARALLEL_SENDS)
        opened_circuits = set()
        policies = {}
        claiming = True
        sent = 0
        renew_at = time.monotonic() + LEASE_RENEWAL

        def submit_sendable():
            # Endpoints found at their parallel limit in this pass: their other waiting deliveries are
            # skipped unchecked (one endpoint's batch would otherwise be checked one by one, ~30
            # times per message sent, on the thread every send and recording waits for).
            full = set()
            for delivery in list(waiting):
                endpoint = delivery.endpoint
                if endpoint.id in full:
                    continue
                if endpoint.id in opened_circuits:
                    if self._release(delivery):
                        waiting.remove(delivery)
                        continue
                    # Closed again meanwhile (by an answer of this batch or of another dispatcher).
                    opened_circuits.discard(endpoint.id)
                # (Not waiting any more: gone with its endpoint's group.)
                if delivery in waiting:
                    if in_flight.can_send(endpoint):
                        in_flight.send(take_group(waiting, delivery))
                    else:
                        full.add(endpoint.id)

        # Every statement below commits as it ends: the leases of a claim are visible to other
        # dispatchers before we send, and what was recorded is never forgotten.
        with statements_committed_alone(self.env.cr):
            while True:
                if claiming and not waiting:
                    # The endpoints' policies are read afresh for each batch (another dispatcher
                    # may have opened a circuit, an admin rotated a secret).
                    self.env.invalidate_all()
                    deliveries = self._claim_due(batch_size)
                    waiting.extend(deliveries)
                    policies.update((delivery.endpoint.id, delivery.endpoint) for delivery in deliveries)
                    claiming = len(deliveries) == batch_size and time.monotonic() < deadline
                if not (waiting or in_flight):
                    return sent
                submit_sendable()
                if not in_flight:
                    continue
                if claiming and not waiting and len(in_flight.deliveries()) <= batch_size:
                    # All sent (a broker's batch goes out as one group): claim the next batch while
                    # these are answered, so that the claim and the publishing overlap. At most one
                    # batch ahead: more would only hold leases longer.
                    continue
                # No answer within LEASE_RENEWAL (slow receivers): nothing to record, leases to renew.
                answers = in_flight.answers(LEASE_RENEWAL)
                answers = in_flight.gather_successes(answers, GATHER_SECONDS, GATHER_MAX, submit_sendable)
                if answers:
                    _follow_circuits(self._record_verdicts(answers), opened_circuits, policies)
                sent += len(answers)
                if time.monotonic() >= renew_at:
                    self._renew_leases([d.message_id for d in [*waiting, *in_flight.deliveries()]])
                    renew_at = time.monotonic() + LEASE_RENEWAL

    @api.model
    def _renew_leases(self, message_ids):
        if message_ids:
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE mfg_integration_message SET claimed_until = %(now)s + make_interval(secs => %(lease)s)
                     WHERE id = ANY(%(ids)s) AND state = 'in_progress'
                    """,
                    now=DB_NOW,
                    lease=LEASE_SECONDS,
                    ids=message_ids,
                )
            )

    @api.model
    def _next_transaction(self):
        """Commit, and run the next transaction in READ COMMITTED.

        The dispatcher's statements are claims (FOR UPDATE SKIP LOCKED) and atomic
        updates, which PostgreSQL re-checks against concurrent dispatchers under READ
        COMMITTED, where Odoo's default REPEATABLE READ would fail them. The level is a
        setting of the connection, sent with the next BEGIN: no extra round trip; every
        Odoo cursor sets REPEATABLE READ again when it is opened (see _cron_dispatch).
        """
        self.env.cr.commit()  # pylint: disable=invalid-commit
        self.env.cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)

    @api.model
    def _claim_due(self, batch_size):
        """Lock and lease due messages (SKIP LOCKED: concurrent dispatchers never share one),
        and read what their deliveries need, in one statement.

        Runs in a READ COMMITTED transaction (see _next_transaction).
        """
        # Each part is an index range scan that stops at the batch (LIMIT): its cost does not grow
        # with the backlog. Hence the clock read once (a volatile clock_timestamp() is no index
        # bound) and the sendable endpoints as arrays filtering the scan (a join would make
        # PostgreSQL read every due message, then sort them). Expired leases come first: they
        # were due before any pending message. Both parts skip what another dispatcher locked.
        sendable = """
               AND m.endpoint_id = ANY((SELECT endpoint_ids FROM sendable)::integer[])
               AND (m.endpoint_id <> ALL((SELECT ordered_ids FROM sendable)::integer[]) OR NOT EXISTS (
                    SELECT 1 FROM mfg_integration_message p
                     WHERE p.endpoint_id = m.endpoint_id
                       AND p.res_model = m.res_model AND p.res_id = m.res_id
                       AND p.id < m.id AND p.state IN ('pending', 'retry', 'in_progress')
               ))
        """
        self.env.cr.execute(
            SQL(
                NO_FLUSH_WAIT
                + """
                WITH clock AS (SELECT %(now)s AS now),
                sendable AS (
                    SELECT COALESCE(array_agg(e.id), '{}') AS endpoint_ids,
                           COALESCE(array_agg(e.id) FILTER (WHERE e.ordered), '{}') AS ordered_ids
                      FROM mfg_integration_endpoint e
                     WHERE e.active
                       AND (e.circuit_open_until IS NULL OR e.circuit_open_until <= (SELECT now FROM clock))
                ), expired AS (
                    SELECT m.id
                      FROM mfg_integration_message m
                     WHERE m.direction = 'outbound' AND m.state = 'in_progress'
                       AND m.claimed_until < (SELECT now FROM clock)
                       """
                + sendable
                + """
                     LIMIT %(limit)s
                       FOR UPDATE OF m SKIP LOCKED
                ), due AS (
                    SELECT m.id
                      FROM mfg_integration_message m
                     WHERE m.direction = 'outbound' AND m.state IN ('pending', 'retry')
                       AND m.next_attempt_at <= (SELECT now FROM clock)
                       """
                + sendable
                + """
                     ORDER BY m.next_attempt_at, m.id
                     LIMIT %(limit)s
                       FOR UPDATE OF m SKIP LOCKED
                )
                UPDATE mfg_integration_message m
                   SET state = 'in_progress',
                       claimed_until = (SELECT now FROM clock) + make_interval(secs => %(lease)s)
                  FROM (SELECT id FROM expired UNION ALL SELECT id FROM due LIMIT %(limit)s) claimed
                 WHERE m.id = claimed.id
             RETURNING m.id, m.endpoint_id, m.event_type_id, m.event_id, m.company_id, COALESCE(m.attempt_count, 0),
                       m.payload, m.create_date, m.subject, m.correlation_id, m.causation_id
                """,
                now=DB_NOW,
                limit=batch_size,
                lease=LEASE_SECONDS,
            )
        )
        rows = sorted(self.env.cr.fetchall())
        self.invalidate_model(["state", "claimed_until"])
        policies = {}
        for endpoint in self.env["mfg.integration.endpoint"].browse({row[1] for row in rows}):
            try:
                policies[endpoint.id] = endpoint._dispatch_policy()
            except (UserError, ValueError) as error:
                policies[endpoint.id] = error
        envelopes = self._envelopes({row[2] for row in rows})
        deliveries = []
        unusable = {}
        for message_id, endpoint_id, event_type_id, event_id, company_id, attempt_count, *event in rows:
            policy = policies[endpoint_id]
            if isinstance(policy, Exception):
                unusable.setdefault(str(policy), []).append(message_id)
                continue
            deliveries.append(
                Delivery(
                    message_id=message_id,
                    event_id=event_id,
                    company_id=company_id,
                    attempt_count=attempt_count,
                    body=envelopes[event_type_id].body(event_id, *event),
                    endpoint=policy,
                )
            )
        for error, message_ids in unusable.items():
            # A missing or undecryptable secret is a configuration fault: keep the
            # messages and try again later, once an admin has fixed it.
            _logger.error("Cannot deliver messages %s: %s", message_ids, error)
            self._postpone_unsendable(message_ids, error)
        self._add_routes(deliveries)
        return deliveries

    @api.model
    def _add_routes(self, deliveries):
        """Hook for transport addons: set ``delivery.route`` (what their transport needs from the
        records, e.g. an MQTT topic naming the plant) at claim time, once per claimed batch."""

    @api.model
    def _envelopes(self, event_type_ids):
        """{event type id: cloudevents.Envelope}: what every event of the type shares."""
        source = self._event_source()
        return {
            event_type.id: cloudevents.Envelope(source, event_type.code, event_type.dataschema_uri())
            for event_type in self.env["mfg.integration.event.type"].sudo().browse(event_type_ids)
        }

    @api.model
    def _postpone_unsendable(self, message_ids, error):
        self.env.cr.execute(
            SQL(
                """
                UPDATE mfg_integration_message m
                   SET state = 'retry', claimed_until = NULL, last_error = %(error)s,
                       next_attempt_at = %(now)s + make_interval(secs => e.backoff_cap)
                  FROM mfg_integration_endpoint e
                 WHERE m.id = ANY(%(ids)s) AND e.id = m.endpoint_id
                """,
                error=error,
                now=DB_NOW,
                ids=message_ids,
            )
        )

    @api.model
    def _event_source(self):
        params = self.env["ir.config_parameter"].sudo()
        return params.get_param("mfg_integration.event_source") or f"urn:odoo:{params.get_param('database.uuid')}"

    @api.model
    def _release(self, delivery):
        """Give back a claimed message, unattempted, for after its endpoint's circuit cooldown;
        returns False, keeping the message, when the circuit is not open (any more).

        The dispatcher decides to release from the answers it saw, but the circuit is shared:
        a success (of this batch, or of another dispatcher) may have closed it again since.
        The release reads the circuit as it is now, so a released message always gets the
        circuit's reopening time as its due time, never none (it would never be claimed again).
        """
        self.env.cr.execute(
            SQL(
                """
                UPDATE mfg_integration_message m
                   SET state = 'retry', claimed_until = NULL, next_attempt_at = e.circuit_open_until
                  FROM mfg_integration_endpoint e
                 WHERE m.id = %s AND e.id = m.endpoint_id AND e.circuit_open_until > %s
                """,
                delivery.message_id,
                DB_NOW,
            )
        )
        self.invalidate_model(["state", "claimed_until", "next_attempt_at"])
        return bool(self.env.cr.rowcount)

    @api.model
    def _record_verdicts(self, answers):
        """Store the attempts and the messages' new states of ``answers`` (``Answer`` tuples, in
        arrival order, each with the time it came) in one statement, and feed their outcomes to the
        circuit breakers; returns {endpoint id: its circuit's state after them} for the circuits
        that learned something. Runs inside statements_committed_alone (see _send_due).

        Plain SQL on purpose: it runs for every group of answers on the dispatcher's hot path,
        with everything it needs already read at claim time, in one round trip. Times come from
        PostgreSQL's clock. Successes on a healthy endpoint change nothing in its circuit: the same
        statement tells which endpoints are not healthy, and only those (and any failure) take the
        circuit's row lock (_record_circuit_outcomes), in a transaction of their own: a crash
        between both forgets what the circuits would have learned from these answers, never a
        delivery. The ORM cache is left as is: the next claim reads the endpoints afresh.
        """
        rows = []
        outcomes = {}
        recorded_at = time.monotonic()
        for delivery, verdict, answered_at in answers:
            attempts = delivery.attempt_count + 1
            decision = decide(verdict, attempts, delivery.endpoint)
            if decision.circuit_outcome:
                outcomes[delivery.endpoint.id] = outcomes.get(delivery.endpoint.id, "") + decision.circuit_outcome
            rows.append(
                (
                    delivery.message_id,
                    delivery.company_id,
                    verdict.duration_ms,
                    verdict.status,
                    payload.excerpt(verdict.response),
                    decision.state,
                    attempts,
                    decision.delay,
                    payload.excerpt(verdict.reason, 500) if decision.state != "done" else None,
                    recorded_at - answered_at,
                )
            )
        columns = list(zip(*rows, strict=True))
        self.env.cr.execute(
            SQL(
                NO_FLUSH_WAIT
                + """
                WITH clock AS (SELECT %(now)s AS now),
                answer AS (
                    SELECT a.*, clock.now - make_interval(secs => a.age) AS answered_at
                      FROM clock, unnest(%(ids)s::int[], %(companies)s::int[], %(durations)s::int[],
                                         %(statuses)s::int[], %(excerpts)s::text[], %(states)s::varchar[],
                                         %(attempts)s::int[], %(delays)s::float8[], %(errors)s::text[],
                                         %(ages)s::float8[])
                           AS a(id, company_id, duration_ms, status, excerpt, state, attempts, delay, error, age)
                ),
                attempt AS (
                    INSERT INTO mfg_integration_attempt
                           (message_id, company_id, attempted_at, duration_ms, http_status, response_excerpt,
                            create_uid, write_uid, create_date, write_date)
                    SELECT a.id, a.company_id, a.answered_at, a.duration_ms, a.status, a.excerpt,
                           %(uid)s, %(uid)s, clock.now, clock.now
                      FROM answer a, clock
                ),
                message AS (
                    UPDATE mfg_integration_message m
                       SET state = a.state, attempt_count = a.attempts, claimed_until = NULL,
                           last_http_status = a.status, first_attempt_at = COALESCE(m.first_attempt_at, a.answered_at),
                           done_at = CASE WHEN a.state = 'done' THEN a.answered_at END,
                           latency_ms = CASE WHEN a.state = 'done' THEN GREATEST(0, round(
                               extract(epoch FROM a.answered_at - COALESCE(m.queued_at, m.create_date)) * 1000
                           ))::int END,
                           next_attempt_at = CASE WHEN a.delay IS NULL THEN m.next_attempt_at
                                                  ELSE clock.now + make_interval(secs => a.delay) END,
                           last_error = a.error, write_uid = %(uid)s, write_date = clock.now
                      FROM answer a, clock
                     WHERE m.id = a.id
                )
                SELECT id FROM mfg_integration_endpoint
                 WHERE id = ANY(%(endpoints)s)
                   AND NOT (circuit_open_until IS NULL AND circuit_history = %(healthy)s)
                """,
                now=DB_NOW,
                ids=list(columns[0]),
                companies=list(columns[1]),
                durations=list(columns[2]),
                statuses=list(columns[3]),
                excerpts=list(columns[4]),
                states=list(columns[5]),
                attempts=list(columns[6]),
                delays=list(columns[7]),
                errors=list(columns[8]),
                ages=list(columns[9]),
                uid=self.env.uid,
                endpoints=list(outcomes),
                healthy=circuit.SUCCESS * circuit.WINDOW,
            )
        )
        unhealthy = {endpoint_id for (endpoint_id,) in self.env.cr.fetchall()}
        learning = {
            endpoint_id: endpoint_outcomes
            for endpoint_id, endpoint_outcomes in outcomes.items()
            if endpoint_id in unhealthy or endpoint_outcomes.strip(circuit.SUCCESS)
        }
        if not learning:
            return {}
        Endpoint = self.env["mfg.integration.endpoint"]
        with one_transaction(self.env.cr):
            return {
                endpoint_id: Endpoint.browse(endpoint_id)._record_circuit_outcomes(endpoint_outcomes)
                for endpoint_id, endpoint_outcomes in learning.items()
            }

    # -- support actions -----------------------------------------------------

    def action_retry_now(self):
        """Send again at once: failed, dead or waiting outbound messages."""
        self._check_manager()
        messages = self.filtered(lambda m: m.direction == "outbound" and m.state in ("retry", "dead", "pending"))
        messages.write({"state": "pending", "next_attempt_at": fields.Datetime.now(), "attempt_count": 0})
        for message in messages:
            message.message_post(body=self.env._("Retry requested by %(user)s.", user=self.env.user.name))
        if messages:
            self._trigger_dispatch_once()
        return messages

    def action_replay(self):
        """A new delivery of the same event (same CloudEvents id) to the same endpoint."""
        self._check_manager()
        replays = self.browse()
        for message in self.filtered(lambda m: m.direction == "outbound" and m.state in ("done", "dead", "cancelled")):
            replays |= message.copy(
                {
                    "event_id": message.event_id,
                    "state": "pending",
                    "replay_of_id": message.id,
                    "next_attempt_at": fields.Datetime.now(),
                }
            )
            message.message_post(body=self.env._("Replayed by %(user)s.", user=self.env.user.name))
        if replays:
            self._trigger_dispatch_once()
        return replays

    def action_cancel(self):
        self._check_manager()
        messages = self.filtered(lambda m: m.state in ("pending", "retry", "dead"))
        messages.write({"state": "cancelled", "next_attempt_at": False})
        for message in messages:
            message.message_post(body=self.env._("Cancelled by %(user)s.", user=self.env.user.name))
        return messages

    def copy_data(self, default=None):
        # A copy is a new delivery: history, timings and results are not copied.
        default = dict(default or {})
        for name in ("attempt_count", "first_attempt_at", "done_at", "latency_ms", "last_error", "last_http_status"):
            default.setdefault(name, False)
        return super().copy_data(default)

    # -- housekeeping --------------------------------------------------------

    @api.model
    def _cron_purge(self, batch_size=PURGE_BATCH):
        """Delete one batch of delivered/processed and cancelled messages older than the retention
        (``mfg_integration.retention_days``), with their attempts and chatter; returns how many went.

        One batch per call, so one short transaction whatever the table size: the scheduled action
        runs it through Odoo's cron progress API, which commits after each call and calls again
        while batches come full (10 per run, then the cron is rescheduled at once, behind the
        other due jobs). The batch is locked with SKIP LOCKED and holds no open, retrying, dead or
        waiting message, nor one another record still refers to (see _purge_references).
        """
        params = self.env["ir.config_parameter"].sudo()  # sudo: reads the retention, no secret
        days = max(int(params.get_param("mfg_integration.retention_days", DEFAULT_RETENTION_DAYS)), 1)
        unreferenced = SQL(" ").join(
            SQL("AND NOT EXISTS (SELECT 1 FROM %s r WHERE r.%s = m.id)", SQL.identifier(table), SQL.identifier(column))
            for table, column in self._purge_references()
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT m.id
                  FROM mfg_integration_message m
                 WHERE m.state IN %(states)s AND m.create_date < %(limit)s %(unreferenced)s
                 ORDER BY m.create_date
                 LIMIT %(batch)s
                   FOR UPDATE OF m SKIP LOCKED
                """,
                states=PURGED_STATES,
                limit=fields.Datetime.now() - timedelta(days=days),
                unreferenced=unreferenced,
                batch=batch_size,
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        # sudo: housekeeping of finished messages, whoever runs the scheduled action.
        self.sudo().browse(ids).unlink()
        # A full batch may have more behind it: the cron calls again (at most one batch too many).
        self.env["ir.cron"]._notify_progress(done=len(ids), remaining=batch_size if len(ids) == batch_size else 0)
        return len(ids)

    @api.model
    def _purge_references(self):
        """(table, column) of every stored many2one to messages from another record (a waiting
        inbound message, a replay, a reconciliation page...): the messages they point to are kept.
        Parts of a message deleted with it (ondelete cascade: attempts, wizards) do not count."""
        return sorted(
            (model._table, field.name)
            for model in (self.env[name] for name in self.env.registry)
            if not model._abstract and not model._transient and model._auto
            for field in model._fields.values()
            if field.type == "many2one"
            and field.store
            and field.comodel_name == self._name
            and field.ondelete != "cascade"
        )
