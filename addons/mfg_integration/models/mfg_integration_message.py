import json
import logging
import time
import uuid
from collections import Counter, deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

from .. import cron_watchdog
from ..lib import cloudevents, payload, transport
from ..lib.delivery import Delivery, decide

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
# The PostgreSQL clock: timestamps of the delivery path (leases, latency) come from one
# clock, to the microsecond, whatever the Odoo servers' clocks say.
DB_NOW = SQL("(clock_timestamp() AT TIME ZONE 'UTC')")
# A dispatcher with nothing due keeps polling (every LINGER_STEP seconds) for retries or a
# circuit's probe due within LINGER seconds, instead of leaving them to the next cron poll.
LINGER = 60
LINGER_STEP = 1.0
# Requests one dispatcher has in flight at once, all endpoints together.
MAX_PARALLEL_SENDS = 16
# Retention purge: finished messages older than the retention go, PURGE_BATCH per transaction.
PURGED_STATES = ("done", "cancelled")
DEFAULT_RETENTION_DAYS = 30
PURGE_BATCH = 2000


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
    direction = fields.Selection(
        [("outbound", "Outbound"), ("inbound", "Inbound")], required=True, index=True, readonly=True
    )
    event_type_id = fields.Many2one(
        "mfg.integration.event.type", required=True, ondelete="restrict", index=True, readonly=True
    )
    system_id = fields.Many2one("mfg.integration.system", index=True, readonly=True, ondelete="restrict")
    endpoint_id = fields.Many2one("mfg.integration.endpoint", index=True, readonly=True, ondelete="restrict")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True, default=lambda self: self.env.company
    )
    state = fields.Selection(STATES, required=True, default="pending", index=True)
    subject = fields.Char(readonly=True, help="What the event is about, e.g. the order reference.")
    payload = fields.Text(
        readonly=True, help="Canonical JSON of the event data (outbound) or of the received event (inbound)."
    )
    payload_sha256 = fields.Char(string="Payload SHA-256", readonly=True)
    payload_pretty = fields.Text(compute="_compute_payload_pretty", string="Payload (formatted)")
    # Indexed together (mfg_integration_message_res_idx), not each alone: see init.
    res_model = fields.Char(string="Record Model", readonly=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="res_model", readonly=True)
    record_ref = fields.Reference(
        selection="_selection_record_ref", compute="_compute_record_ref", string="Record"
    )
    correlation_id = fields.Char(index=True, readonly=True)
    causation_id = fields.Char(readonly=True)
    idempotency_key = fields.Char(index=True, readonly=True)
    attempt_count = fields.Integer(readonly=True)
    next_attempt_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    claimed_until = fields.Datetime(readonly=True, copy=False)
    queued_at = fields.Datetime(
        readonly=True, copy=False, help="When the message was queued, to the microsecond (PostgreSQL's clock)."
    )
    first_attempt_at = fields.Datetime(readonly=True)
    done_at = fields.Datetime(readonly=True)
    latency_ms = fields.Integer(
        string="Latency (ms)", readonly=True, help="From creation to delivery or processing."
    )
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
        # The dispatcher's claim query scans only due outbound messages.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS mfg_integration_message_due_idx
                ON mfg_integration_message (next_attempt_at, id)
             WHERE direction = 'outbound' AND state IN ('pending', 'retry', 'in_progress')
            """
        )
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
            endpoints = self._subscribed_endpoints(event_type, record)
        if not endpoints:
            return self.browse()
        if callable(data):
            data = data()
        event_type.ensure_valid(data)
        payloads = self._payloads_per_system(event_type, data, endpoints.system_id)
        context = self.env.context
        common = {
            "direction": "outbound",
            "event_type_id": event_type.id,
            "event_id": str(uuid.uuid4()),
            "subject": subject or record.display_name,
            "res_model": record._name,
            "res_id": record.id,
            "correlation_id": context.get("mfg_correlation_id") or str(uuid.uuid4()),
            "causation_id": context.get("mfg_causation_id"),
        }
        # sudo: messages are written by the integration layer on behalf of any user;
        # their content comes from our mappers, not from user input.
        messages = self.sudo().with_context(tracking_disable=True).create(
            [
                dict(
                    common,
                    **payloads[endpoint.system_id.id],
                    endpoint_id=endpoint.id,
                    system_id=endpoint.system_id.id,
                    company_id=endpoint.company_id.id,
                )
                for endpoint in endpoints
            ]
        )
        self._trigger_dispatch_once()
        return messages

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
        endpoints = self.env["mfg.integration.endpoint"].sudo()
        # Records without a company (shared partners, products) belong to the user's company here.
        company = (record.company_id if "company_id" in record._fields else None) or self.env.company
        selected_ids = []
        for endpoint_id, company_id, domain_text in self._subscriptions_for(event_type.code):
            if company_id != company.id:
                continue
            domain = safe_eval(domain_text or "[]")
            if domain and not record.filtered_domain(domain):
                continue
            selected_ids.append(endpoint_id)
        return self._filter_endpoints_for_record(endpoints.browse(selected_ids), record)

    @api.model
    def _filter_endpoints_for_record(self, endpoints, record):
        """Hook for domain addons: drop endpoints that must not hear about ``record``
        (e.g. another plant's systems)."""
        return endpoints

    @api.model
    @tools.ormcache("event_type_code")
    def _subscriptions_for(self, event_type_code):
        # Cached: emit() runs in the planner's transaction; the cache is cleared
        # whenever endpoints or subscriptions change.
        for model in ("mfg.integration.subscription", "mfg.integration.endpoint", "mfg.integration.system"):
            self.env[model].flush_model()
        self.env.cr.execute(
            """
            SELECT e.id, e.company_id, s.filter_domain
              FROM mfg_integration_subscription s
              JOIN mfg_integration_endpoint e ON e.id = s.endpoint_id
              JOIN mfg_integration_event_type t ON t.id = s.event_type_id
              JOIN mfg_integration_system y ON y.id = e.system_id
             WHERE t.code = %s AND e.active AND y.active
             ORDER BY e.id
            """,
            [event_type_code],
        )
        return tuple(self.env.cr.fetchall())

    @api.model
    def _trigger_dispatch_once(self):
        """Wake the dispatcher slots right after this transaction commits (once per transaction)."""
        flags = self.env.cr.precommit.data
        if not flags.get("mfg_integration.dispatch_triggered"):
            flags["mfg_integration.dispatch_triggered"] = True
            for cron in self._dispatch_crons():
                cron._trigger()

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
        moments = ([fields.Datetime.now()] if due else []) + ([lease_end] if lease_end else [])
        for cron in self._dispatch_crons() if moments else ():
            cron._trigger(moments)

    # -- dispatcher ----------------------------------------------------------

    @api.model
    def _cron_dispatch(self, batch_size=50, time_budget=50, linger=LINGER):
        """Deliver due outbound messages until none is due or the time budget is spent.

        Commits after the claim and after recording the answers that arrived: a crash
        never forgets a recorded delivery, and no transaction is open while receivers answer.
        The budget is short so that the cron's last run (what /health watches) stays recent.
        """
        deadline = time.monotonic() + time_budget
        sent = 0
        self._next_transaction()
        with ThreadPoolExecutor(max_workers=MAX_PARALLEL_SENDS, thread_name_prefix="mfg-dispatch") as pool:
            while time.monotonic() < deadline:
                deliveries = self._claim_due(batch_size)
                # The leases must be visible to other dispatchers before we send.
                self._next_transaction()
                if deliveries:
                    sent += self._send_batch(pool, deliveries)
                    continue
                if self._seconds_until_next_due(linger) is None:
                    return sent
                # Short steps: a message emitted meanwhile is claimed within a second.
                time.sleep(min(LINGER_STEP, max(deadline - time.monotonic(), 0)))
        if self._seconds_until_next_due(linger) is not None:
            # Budget spent with work ahead: the next run starts now, not at the next cron poll.
            for cron in self._dispatch_crons():
                cron._trigger()
            self._next_transaction()
        return sent

    @api.model
    def _seconds_until_next_due(self, horizon):
        """Seconds until the next outbound message becomes due (its retry time, or its endpoint's
        probe time), looking at most ``horizon`` seconds ahead; None when none is."""
        self.env.cr.execute(
            SQL(
                """
                SELECT extract(epoch FROM min(GREATEST(m.next_attempt_at, e.circuit_open_until)) - %(now)s)
                  FROM mfg_integration_message m
                  JOIN mfg_integration_endpoint e ON e.id = m.endpoint_id
                 WHERE m.direction = 'outbound' AND m.state IN ('pending', 'retry') AND e.active
                   AND GREATEST(m.next_attempt_at, e.circuit_open_until)
                       BETWEEN %(now)s AND %(now)s + make_interval(secs => %(horizon)s)
                """,
                now=DB_NOW,
                horizon=horizon,
            )
        )
        seconds = self.env.cr.fetchone()[0]
        self._next_transaction()
        return None if seconds is None else float(seconds)

    @api.model
    def _send_batch(self, pool, deliveries):
        """Send in parallel (up to each endpoint's limit) through each endpoint's transport,
        recording the verdicts as they come and renewing the leases of what is still ours.

        Only the transports run in the pool's threads; the ORM stays in this thread.
        """
        waiting = deque(deliveries)
        in_flight = {}
        per_endpoint = Counter()
        opened_circuits = set()
        sent = 0
        renew_at = time.monotonic() + LEASE_RENEWAL
        while waiting or in_flight:
            for delivery in list(waiting):
                endpoint = delivery.endpoint
                if endpoint.id in opened_circuits:
                    if self._release(delivery):
                        waiting.remove(delivery)
                        continue
                    # Closed again meanwhile (by an answer of this batch or of another dispatcher).
                    opened_circuits.discard(endpoint.id)
                if per_endpoint[endpoint.id] < endpoint.parallel_limit and len(in_flight) < MAX_PARALLEL_SENDS:
                    waiting.remove(delivery)
                    per_endpoint[endpoint.id] += 1
                    in_flight[pool.submit(transport.get(endpoint.transport).send, delivery)] = delivery
            if not in_flight:
                self._next_transaction()
                continue
            done, _pending = wait(in_flight, timeout=LEASE_RENEWAL, return_when=FIRST_COMPLETED)
            for future in done:
                delivery = in_flight.pop(future)
                per_endpoint[delivery.endpoint.id] -= 1
                circuit_state = self._record_verdict(delivery, future.result())
                if circuit_state == "open":
                    opened_circuits.add(delivery.endpoint.id)
                elif circuit_state == "closed":
                    # A success (perhaps of a request sent before the circuit opened) closed it again.
                    opened_circuits.discard(delivery.endpoint.id)
                    delivery.endpoint.failing = False
                sent += 1
            if time.monotonic() >= renew_at:
                self._renew_leases([d.message_id for d in waiting] + [d.message_id for d in in_flight.values()])
                renew_at = time.monotonic() + LEASE_RENEWAL
            # Committed before waiting for the next answer: what was recorded is never forgotten.
            self._next_transaction()
        return sent

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
        single-row updates, which PostgreSQL re-checks against concurrent dispatchers
        under READ COMMITTED, where Odoo's default REPEATABLE READ would fail them.
        """
        self.env.cr.commit()  # pylint: disable=invalid-commit
        self.env.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")

    @api.model
    def _claim_due(self, batch_size):
        """Lock and lease due messages (SKIP LOCKED: concurrent dispatchers never share one).

        Runs in a READ COMMITTED transaction (see _next_transaction).
        """
        self.env.cr.execute(
            SQL(
                """
                WITH due AS (
                    SELECT m.id
                      FROM mfg_integration_message m
                      JOIN mfg_integration_endpoint e ON e.id = m.endpoint_id
                     WHERE m.direction = 'outbound'
                       AND (
                            (m.state IN ('pending', 'retry') AND m.next_attempt_at <= %(now)s)
                         OR (m.state = 'in_progress' AND m.claimed_until < %(now)s)
                       )
                       AND e.active
                       AND (e.circuit_open_until IS NULL OR e.circuit_open_until <= %(now)s)
                       AND (NOT COALESCE(e.ordered, FALSE) OR NOT EXISTS (
                            SELECT 1 FROM mfg_integration_message p
                             WHERE p.endpoint_id = m.endpoint_id
                               AND p.res_model = m.res_model AND p.res_id = m.res_id
                               AND p.id < m.id AND p.state IN ('pending', 'retry', 'in_progress')
                       ))
                     ORDER BY m.next_attempt_at, m.id
                     LIMIT %(limit)s
                       FOR UPDATE OF m SKIP LOCKED
                )
                UPDATE mfg_integration_message m
                   SET state = 'in_progress', claimed_until = %(now)s + make_interval(secs => %(lease)s)
                  FROM due
                 WHERE m.id = due.id
             RETURNING m.id
                """,
                now=DB_NOW,
                limit=batch_size,
                lease=LEASE_SECONDS,
            )
        )
        ids = sorted(row[0] for row in self.env.cr.fetchall())
        self.invalidate_model(["state", "claimed_until"])
        messages = self.browse(ids)
        source = self._event_source()
        policies = {}
        deliveries = []
        for message in messages:
            try:
                endpoint = message.endpoint_id
                if endpoint.id not in policies:
                    policies[endpoint.id] = endpoint._dispatch_policy()
                deliveries.append(message._prepare_delivery(source, policies[endpoint.id]))
            except (UserError, ValueError) as error:
                # A missing or undecryptable secret is a configuration fault: keep
                # the message and try again later, once an admin has fixed it.
                _logger.error("Cannot deliver message %s of endpoint %s: %s", message.id, endpoint.id, error)
                message.write(
                    {
                        "state": "retry",
                        "claimed_until": False,
                        "last_error": str(error),
                        "next_attempt_at": fields.Datetime.now() + timedelta(seconds=endpoint.backoff_cap),
                    }
                )
        return deliveries

    def _prepare_delivery(self, source, policy):
        self.ensure_one()
        event = cloudevents.build_event(
            event_id=self.event_id,
            source=source,
            event_type=self.event_type_id.code,
            data=json.loads(self.payload),
            time=self.create_date,
            subject=self.subject,
            dataschema=self.event_type_id.dataschema_uri(),
            extensions={"correlationid": self.correlation_id, "causationid": self.causation_id},
        )
        return Delivery(
            message_id=self.id,
            event_id=self.event_id,
            company_id=self.company_id.id,
            attempt_count=self.attempt_count,
            body=cloudevents.to_bytes(event),
            endpoint=policy,
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
    def _record_verdict(self, delivery, verdict):
        """Store the attempt and the message's new state; returns the endpoint's circuit state
        after it ("closed", "open", "half_open"), or None when the circuit learned nothing.

        Plain SQL on purpose: it runs once per delivery on the dispatcher's hot path, with
        everything it needs already read at claim time. Times come from PostgreSQL's clock.
        """
        attempts = delivery.attempt_count + 1
        decision = decide(verdict, attempts, delivery.endpoint)
        circuit_state = None
        if decision.circuit_outcome:
            endpoint = self.env["mfg.integration.endpoint"].browse(delivery.endpoint.id)
            circuit_state = endpoint._record_circuit_outcome(decision.circuit_outcome)
        self.env.cr.execute(
            SQL(
                """
                WITH clock AS (SELECT %(now)s AS now),
                attempt AS (
                    INSERT INTO mfg_integration_attempt
                           (message_id, company_id, attempted_at, duration_ms, http_status, response_excerpt,
                            create_uid, write_uid, create_date, write_date)
                    SELECT %(id)s, %(company)s, now, %(duration)s, %(status)s, %(excerpt)s, %(uid)s, %(uid)s, now, now
                      FROM clock
                )
                UPDATE mfg_integration_message m
                   SET state = %(state)s, attempt_count = %(attempts)s, claimed_until = NULL,
                       last_http_status = %(status)s, first_attempt_at = COALESCE(m.first_attempt_at, clock.now),
                       done_at = CASE WHEN %(state)s = 'done' THEN clock.now END,
                       latency_ms = CASE WHEN %(state)s = 'done' THEN GREATEST(0, round(
                           extract(epoch FROM clock.now - COALESCE(m.queued_at, m.create_date)) * 1000))::int END,
                       next_attempt_at = CASE WHEN %(delay)s::float IS NULL THEN m.next_attempt_at
                                              ELSE clock.now + make_interval(secs => %(delay)s::float) END,
                       last_error = %(error)s, write_uid = %(uid)s, write_date = clock.now
                  FROM clock
                 WHERE m.id = %(id)s
                """,
                now=DB_NOW,
                id=delivery.message_id,
                company=delivery.company_id,
                duration=verdict.duration_ms,
                status=verdict.status,
                excerpt=payload.excerpt(verdict.response),
                uid=self.env.uid,
                state=decision.state,
                attempts=attempts,
                delay=decision.delay,
                error=payload.excerpt(verdict.reason, 500) if decision.state != "done" else None,
            )
        )
        self.invalidate_model()
        self.env["mfg.integration.attempt"].invalidate_model()
        return circuit_state

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
