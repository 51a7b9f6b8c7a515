"""Inbox: the inbound pipeline behind the REST API (/api/mfg/v1).

Flow of one event (``_inbound_receive``): envelope, type and schema checks, then
the message is stored in a transaction of its own and committed (the inbox),
then applied by its type's handler in the request's transaction under a
savepoint, then its outcome (state, result, response to replay) is written.

Handlers are registered on the inbound event type (``handler_model`` +
``handler_method``) and called as ``env[handler_model].<handler_method>(message, data)``
in the environment of the system's technical user (Odoo access rights apply:
the technical user needs the rights of the documents its system touches).
``message`` is given in sudo mode for reading only: handlers write through
their own ``self.env``. They return a JSON-serialisable dict naming the records
created or changed, e.g. ``{"records": [{"model": ..., "id": ..., "name": ...}]}``,
and raise MfgBusinessError (or any UserError) when the event cannot be applied.
A handler may come with ``<handler_method>_many(applications)``: consecutive events of its type about
different subjects in a batch (or taken together by the inbound cron) are then applied by one call
in one savepoint (see _inbound_apply_together), and one by one when that call fails.

Inbound messages are evidence: their identifying and outcome fields are written
only by this pipeline (with sudo), never through the ORM by a user (see write/create).
Messages about the same subject (the event type's subject_model/subject_key, e.g. one
production order) are applied in the order received: a message with an earlier one of
the same subject failed or not yet applied waits (state ``waiting``) and is applied
when that one is processed or ignored.
"""

import json
import logging
import time
import uuid
from datetime import timedelta

import psycopg2
from markupsafe import Markup
from psycopg2 import errors as pg_errors

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..exceptions import MfgConfigurationError
from ..lib import cloudevents, inbox, payload, ratelimit, timeconv

_logger = logging.getLogger(__name__)

# A request applying an event holds a row lock on its message; this lease also
# covers the short moment between storing the message and taking that lock, and
# lets the inbound cron take over messages whose request died.
LEASE_SECONDS = 120
# Seconds a batch request applies its events itself; what is left then goes to the inbound cron
# (answered 202): half of Odoo's default limit_time_real (120 s), past which the server restarts
# rather than let a request run on (a 500-report batch takes longer).
BATCH_SYNC_BUDGET = 60
# Consecutive events of one type about different subjects applied together by a handler that
# takes several (``<handler_method>_many``), e.g. production reports closing their orders in one go.
GROUP_SIZE = 25
STATUS_NAMES = {
    "pending": "pending",
    "waiting": "waiting",
    "in_progress": "in_progress",
    "retry": "pending",
    "done": "processed",
    "dead": "failed",
    "cancelled": "ignored",
}

# A re-post of an event that still waits for an earlier message: when to try again (seconds).
WAITING_RETRY_AFTER = 60
# Longest correlation or causation id kept (like the event id, they are indexed).
MAX_ID_LENGTH = cloudevents.MAX_ID_LENGTH
# Deeper JSON than this is no business event (and would exhaust recursion further on).
MAX_DEPTH = 32
# Fields only the pipeline writes (with sudo): what was received, from whom, and its outcome.
EVIDENCE_FIELDS = frozenset(
    {
        "payload", "payload_sha256", "original_payload", "sender_user_id", "system_id", "endpoint_id",
        "company_id", "event_type_id", "direction", "event_id", "idempotency_key", "state", "subject",
        "correlation_id", "causation_id", "result_kind", "response_body", "result_json", "last_error",
        "last_http_status", "error_path", "attempt_count", "res_model", "res_id", "done_at", "order_key",
        "waits_for_id", "claimed_until", "first_attempt_at", "latency_ms",
    }
)  # fmt: skip


class MfgIntegrationMessage(models.Model):
    _inherit = "mfg.integration.message"

    sender_user_id = fields.Many2one(
        "res.users",
        string="Sent By (Technical User)",
        readonly=True,
        help="Inbound: the technical user whose API key sent the event; reprocessing runs as this user.",
    )
    original_payload = fields.Text(
        readonly=True, help="Inbound: the event as received, kept when support edits the payload."
    )
    original_payload_pretty = fields.Text(
        compute="_compute_original_payload_pretty", string="Original Payload (formatted)"
    )
    result_json = fields.Text(string="Result", readonly=True, help="Inbound: records created or changed.")
    result_kind = fields.Selection(
        [
            (inbox.PROCESSED, "Processed"),
            (inbox.ACCEPTED, "Accepted, to Be Applied"),
            (inbox.WAITING, "Waits for an Earlier Message"),
            (inbox.REFUSED, "Refused (Invalid Event or Business Error)"),
            (inbox.FORBIDDEN, "Forbidden (Missing Right)"),
            (inbox.UNAVAILABLE, "Unavailable (Configuration)"),
            (inbox.FAILED, "Internal Error"),
        ],
        string="Outcome",
        readonly=True,
        help="Inbound: the current outcome, what a re-post of the event answers (the REST API: 200, 202, "
        "424, 422, 403, 503 and 500 in this order).",
    )
    response_body = fields.Text(readonly=True, help="Inbound: JSON body of the current outcome.")
    error_path = fields.Char(readonly=True, help="Inbound: where in the event the last error points.")
    state = fields.Selection(
        selection_add=[("waiting", "Waiting for an Earlier Message")], ondelete={"waiting": "set default"}
    )
    order_key = fields.Char(
        string="Ordering Subject",
        readonly=True,
        index="btree_not_null",
        help="Inbound: the record the event is about (e.g. mrp.production:WH/MO/00012); messages of one "
        "system about one subject are applied in the order received.",
    )
    waits_for_id = fields.Many2one(
        "mfg.integration.message",
        readonly=True,
        # Deleting a message (retention purge) looks up who waits for it: indexed, or every
        # deleted message would scan the whole table.
        index="btree_not_null",
        help="Inbound: the earlier message about the same subject that must be processed or ignored first.",
    )

    # -- evidence protection ----------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su and any(vals.get("direction") == "inbound" for vals in vals_list):
            raise AccessError(self.env._("Inbound messages are created only by the inbound API."))
        return super().create(vals_list)

    def write(self, vals):
        inbound = vals.get("direction") == "inbound" or any(message.direction == "inbound" for message in self)
        if inbound and not self.env.su and EVIDENCE_FIELDS.intersection(vals):
            raise AccessError(
                self.env._("Inbound messages are evidence: use Reprocess, Ignore or Edit Payload and Reprocess.")
            )
        return super().write(vals)

    def init(self):
        super().init()
        # One inbound message per idempotency key and sending system.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS mfg_integration_message_inbound_key_uniq
                ON mfg_integration_message (system_id, idempotency_key)
             WHERE direction = 'inbound'
            """
        )
        # What the inbound cron picks up: messages queued, or whose request died while applying them.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS mfg_integration_message_inbound_due_idx
                ON mfg_integration_message (id)
             WHERE direction = 'inbound' AND state IN ('pending', 'in_progress')
            """
        )
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS mfg_integration_rate_window (
                system_id integer NOT NULL REFERENCES mfg_integration_system(id) ON DELETE CASCADE,
                window_start timestamp NOT NULL,
                hits integer NOT NULL DEFAULT 0,
                PRIMARY KEY (system_id, window_start)
            )
            """
        )

    @api.depends("original_payload")
    def _compute_original_payload_pretty(self):
        for message in self:
            message.original_payload_pretty = (
                payload.pretty_json(message.original_payload) if message.original_payload else False
            )

    # -- entry points (called by the controller, as the technical user) -------

    @api.model
    def _inbound_system(self):
        """The system of the current (technical) user, or an empty recordset."""
        # sudo: a technical user may not read the system record itself; we only
        # read which system its own user is linked to.
        return self.env.user.sudo().mfg_system_id.filtered("active")

    @api.model
    def _inbound_rate_check(self, system):
        """Count this request in the system's current window (own short transaction).

        Returns the seconds to wait when the limit is exceeded, else 0.
        """
        limit = system.rate_limit_per_minute
        if not limit:
            return 0
        now = fields.Datetime.now()
        window = ratelimit.window_start(now)
        with self._independent_cursor() as cr:
            # A counter lost in a crash only lets a few more requests through: this commit need
            # not wait for the disk (one flush less per request; the inbox's own commits still do).
            cr.execute("SET LOCAL synchronous_commit TO OFF")
            cr.execute(
                """
                INSERT INTO mfg_integration_rate_window AS w (system_id, window_start, hits)
                VALUES (%s, %s, 1)
                ON CONFLICT (system_id, window_start) DO UPDATE SET hits = w.hits + 1
                RETURNING hits
                """,
                [system.id, window],
            )
            hits = cr.fetchone()[0]
        return ratelimit.retry_after(now) if ratelimit.is_over(hits, limit) else 0

    @api.model
    def _inbound_receive(self, system, event, idempotency_key=None, prefer_async=False):
        """Check, store and apply (or queue) one received event; returns an ``InboxResult``
        (``lib/inbox.py``), which the transport that received the event turns into its answer."""
        return next(self._inbound_receive_batch(system, [event], prefer_async, idempotency_key))

    @api.model
    def _inbound_receive_batch(self, system, events, prefer_async=False, idempotency_key=None):
        """Check ``events``, store the valid ones in one transaction (one commit for them all), then
        apply (or queue) them in order: yields each event's ``InboxResult``. The caller commits after
        each result (its business effect and outcome) before asking for the next one."""
        run_async = bool(prefer_async or system.async_processing)
        received = [self._inbound_prepare(system, event, idempotency_key) for event in events]
        entries = [item for item in received if not isinstance(item, inbox.InboxResult)]
        stored = self._inbound_store(system, entries, run_async) if entries else []
        if run_async and any(created for _message_id, created in stored):
            self.env.ref("mfg_integration.ir_cron_process_inbound").sudo()._trigger()
        started = lease_renewed = time.monotonic()
        position = 0
        runs = dict(
            inbox.together_runs(
                [(entry["event_type"].id, entry["order_key"]) if new and entry["order_key"] else None
                 for entry, (_message_id, new) in zip(entries, stored, strict=True)],
                GROUP_SIZE,
            )
        )  # fmt: skip
        together = {}  # position: outcome of a message applied with the next ones
        for item in received:
            if isinstance(item, inbox.InboxResult):
                yield item
                continue
            message_id, created = stored[position]
            position += 1
            if position - 1 in together:
                yield together.pop(position - 1)
                continue
            if not run_async and time.monotonic() - started > BATCH_SYNC_BUDGET:
                self._inbound_hand_over([mid for mid, new in stored[position - 1 :] if new])
                run_async = True
            if not run_async and time.monotonic() - lease_renewed > LEASE_SECONDS / 2:
                # A long batch keeps the lease of the messages it has yet to apply (the cron
                # takes over only those of a request that died).
                self._inbound_renew_lease([mid for mid, new in stored if new])
                lease_renewed = time.monotonic()
            end = runs.get(position - 1, position)
            if not run_async and end - position > 0:
                outcomes = self._inbound_apply_stored_together([mid for mid, _new in stored[position - 1 : end]])
                if outcomes:
                    together = dict(enumerate(outcomes, start=position - 1))
                    yield together.pop(position - 1)
                    continue
            yield self._inbound_apply_stored(item, message_id, created, run_async)

    @api.model
    def _inbound_prepare(self, system, event, idempotency_key=None):
        """What storing ``event`` needs (a dict), or the refusal of the event (an InboxResult)."""
        refused = self._inbound_check(system, event)
        if refused:
            return refused
        text = payload.canonical_json(event)
        # sudo: the catalog is configuration, readable by every sender.
        event_type = self.env["mfg.integration.event.type"].sudo()._get_by_code(event["type"], "inbound")
        return {
            "event": event,
            "event_type": event_type,
            "key": idempotency_key or event["id"],
            "text": text,
            "digest": payload.sha256_hex(text),
            "order_key": event_type._order_key(event["data"]),
        }

    @api.model
    def _inbound_apply_stored(self, entry, message_id, created, run_async):
        """Apply (or queue) the stored message of ``entry``, or answer what it is now."""
        # sudo: the technical user has no rights on the integration messages; it
        # only reaches the message of its own system it just stored.
        message = self.sudo().browse(message_id)
        if not created:
            if message.payload_sha256 != entry["digest"]:
                return inbox.refusal(
                    inbox.REFUSED,
                    _("Idempotency key reused"),
                    _("Idempotency key %(key)s was already used with a different payload.", key=entry["key"]),
                    slug="idempotency-key-reused",
                    message_id=message.id,
                )
            return self._inbound_apply_message(message)
        if run_async:
            return inbox.accepted(message.id)
        _claimed_by_this_request(self.env.cr).add(message.id)  # stored by this very request
        return self._inbound_apply_message(message)

    @api.model
    def _inbound_apply_stored_together(self, message_ids):
        """Apply messages this request stored (new, consecutive, see _inbound_receive_batch) together:
        their InboxResults, or None when they are to be applied one by one."""
        claimed = _claimed_by_this_request(self.env.cr)
        claimed.update(message_ids)
        # sudo: the technical user has no rights on the integration messages; these are the
        # messages of its own system this very request stored.
        messages = self.sudo().browse(message_ids)
        # Waits like _inbound_apply_message for the messages this request stored (a re-post may hold one).
        self.env.cr.execute(
            SQL("SELECT id FROM mfg_integration_message WHERE id IN %s ORDER BY id FOR UPDATE", tuple(message_ids))
        )
        messages.invalidate_recordset()
        if not all(message._inbound_to_apply() for message in messages):
            return None
        return messages._inbound_apply_together()

    @api.model
    def _inbound_hand_over(self, message_ids):
        """Queue this request's messages not applied yet for the inbound cron (committed with the
        next result), as if they had come with ``Prefer: respond-async``."""
        # sudo: the technical user has no rights on the integration messages; these are the
        # messages of its own system this very request stored.
        messages = self.sudo().browse(message_ids)
        messages.write({"state": "pending", "claimed_until": False})
        messages._inbound_queue()
        _claimed_by_this_request(self.env.cr).difference_update(message_ids)
        self.env.ref("mfg_integration.ir_cron_process_inbound").sudo()._trigger()

    def _inbound_queue(self):
        """Answer these pending messages as queued for the inbound cron (202, their message_id)."""
        for message in self:
            queued = inbox.accepted(message.id)
            message.write({"result_kind": queued.kind, "response_body": json.dumps(queued.body)})

    @api.model
    def _inbound_renew_lease(self, message_ids):
        """Extend the lease of this request's messages still being applied (committed with the next one)."""
        self.env.cr.execute(
            SQL(
                "UPDATE mfg_integration_message SET claimed_until = %s WHERE id IN %s AND state = 'in_progress'",
                fields.Datetime.now() + timedelta(seconds=LEASE_SECONDS),
                tuple(message_ids),
            )
        )

    @api.model
    def _inbound_check(self, system, event):
        """The problem with a received event before it is stored, or None."""
        if not isinstance(event, dict):
            return inbox.refusal(
                inbox.REFUSED,
                _("Invalid event"),
                _("The body must be one CloudEvents 1.0 event (a JSON object)."),
                slug="invalid-event",
                errors=[{"path": "", "message": _("expected a JSON object")}],
            )
        hostile = payload.unstorable(event, MAX_DEPTH)
        if hostile:
            path, reason = hostile
            return inbox.refusal(
                inbox.REFUSED,
                _("Invalid event"),
                _("The event holds a value that cannot be stored: %(reason)s.", reason=reason),
                slug="invalid-event",
                errors=[{"path": path, "message": reason}],
            )
        errors = cloudevents.envelope_errors(event)
        if "time" not in event:
            errors.append({"path": "/time", "message": _("'time' is a required property")})
        for name in ("correlationid", "causationid"):  # stored in indexed columns
            if isinstance(event.get(name), str) and len(event[name]) > MAX_ID_LENGTH:
                errors.append({"path": f"/{name}", "message": f"longer than {MAX_ID_LENGTH} characters"})
        if errors:
            return inbox.refusal(
                inbox.REFUSED,
                _("Invalid event"),
                _("The event is not a valid CloudEvents 1.0 event."),
                slug="invalid-event",
                errors=errors,
            )
        # sudo: the catalog is configuration, readable by every sender.
        event_type = self.env["mfg.integration.event.type"].sudo()._get_by_code(event["type"], "inbound")
        if not event_type:
            return inbox.refusal(
                inbox.REFUSED,
                _("Unknown event type"),
                _("%(type)s is not a known inbound event type.", type=event["type"]),
                slug="unknown-event-type",
                errors=[{"path": "/type", "message": _("unknown inbound event type")}],
            )
        if event_type not in system.sudo().inbound_event_type_ids:
            return inbox.refusal(
                inbox.FORBIDDEN,
                _("Event type not allowed"),
                _("System %(system)s may not send %(type)s.", system=system.code, type=event_type.code),
                slug="event-type-not-allowed",
            )
        errors = event_type.schema_errors(event["data"], prefix="/data")
        if errors:
            return inbox.refusal(
                inbox.REFUSED,
                _("Schema violation"),
                _("The event's data does not match the schema of %(type)s.", type=event_type.code),
                slug="schema-violation",
                errors=errors,
            )
        return None

    # -- storage ----------------------------------------------------------------

    @api.model
    def _independent_cursor(self):
        """A cursor of its own that commits on exit; READ COMMITTED outside tests so
        that it sees what concurrent requests committed while it waited for a lock."""
        registry = self.env.registry
        cr = registry.cursor()
        if not registry.in_test_mode():
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        return cr

    @api.model
    def _inbound_store(self, system, entries, run_async):
        """Find or create the inbox message of (system, key) of every entry (``_inbound_prepare``)
        and commit them: one transaction for a whole batch.

        Returns [(message id, created)] in the order of ``entries`` (an entry repeating an earlier
        one's key gets that message, not created). Runs on its own cursor so the messages are
        committed before they are applied; the request's transaction is then ended (committed: it
        wrote nothing yet) so that its next snapshot sees them.
        """
        keys = sorted({entry["key"] for entry in entries})
        with self._independent_cursor() as cr:
            # Serialises requests carrying the same keys (taken in one order: no deadlock between
            # two batches): the second one waits until the first committed its messages, then finds them.
            cr.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(key)) FROM unnest(%s::text[]) AS key ORDER BY key",
                [system.id, keys],
            )
            # sudo: the technical user writes the inbox only through this method.
            Message = (
                self.with_env(self.env(cr=cr))
                .sudo()
                .with_context(tracking_disable=True, mail_create_nolog=True, mail_notrack=True)
            )
            existing = Message.search_fetch(
                [("direction", "=", "inbound"), ("system_id", "=", system.id), ("idempotency_key", "in", keys)],
                ["idempotency_key"],
            )
            found = {message.idempotency_key: message.id for message in existing}
            new_vals = {}
            for entry in entries:
                if entry["key"] not in found and entry["key"] not in new_vals:
                    new_vals[entry["key"]] = self._inbound_message_vals(system, entry, run_async)
            created = Message.create(list(new_vals.values()))
            if run_async:
                created._inbound_queue()
            new_ids = dict(zip(new_vals, created.ids, strict=True))
        self.env.cr.commit()
        stored, seen = [], set()
        for entry in entries:
            key = entry["key"]
            if key in new_ids and key not in seen:
                stored.append((new_ids[key], True))
            else:
                stored.append((found.get(key) or new_ids[key], False))
            seen.add(key)
        return stored

    @api.model
    def _inbound_message_vals(self, system, entry, run_async):
        event, event_type = entry["event"], entry["event_type"]
        correlation_id = event.get("correlationid")
        vals = {
            "direction": "inbound",
            "event_type_id": event_type.id,
            "event_id": event["id"],
            "system_id": system.id,
            "company_id": system.company_id.id,
            "sender_user_id": self.env.uid,
            "subject": event.get("subject") or event["id"],
            "payload": entry["text"],
            "payload_sha256": entry["digest"],
            "idempotency_key": entry["key"],
            "correlation_id": correlation_id if isinstance(correlation_id, str) else event["id"],
            "causation_id": event.get("causationid") if isinstance(event.get("causationid"), str) else False,
            "order_key": entry["order_key"],
            "next_attempt_at": fields.Datetime.now(),
        }
        if run_async:
            vals["state"] = "pending"
        else:
            vals.update(state="in_progress", claimed_until=fields.Datetime.now() + timedelta(seconds=LEASE_SECONDS))
        return vals

    # -- applying ----------------------------------------------------------------

    def _inbound_lock(self, wait=False):
        """Row-lock the message in this transaction; False when another one holds it
        (``wait``: wait for it, for the request that stored the message)."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM mfg_integration_message WHERE id = %s FOR UPDATE %s",
                        self.id,
                        SQL("") if wait else SQL("NOWAIT"),
                    ),
                    log_exceptions=False,
                )
        except pg_errors.LockNotAvailable:
            return False
        self.invalidate_recordset()
        return True

    def _inbound_in_progress_elsewhere(self):
        return (
            self.state == "in_progress"
            and self.claimed_until
            and self.claimed_until > fields.Datetime.now()
            and self.id not in _claimed_by_this_request(self.env.cr)
        )

    def _inbound_to_apply(self):
        """True when this message must be applied now: new, its request died, or its
        last attempt failed for a reason that is not in the event (right, configuration, crash)."""
        if self.state == "in_progress":
            return not self._inbound_in_progress_elsewhere()
        if self.state == "dead":
            return self.result_kind not in inbox.FINAL_KINDS
        return False

    @api.model
    def _inbound_apply_message(self, message):
        """Apply ``message`` (sudo) unless it is applied elsewhere or already; else its current outcome.

        Only the request that stored the message waits for its row lock (a re-post may
        hold it for a moment); a re-post never waits: it answers 409 or the outcome.
        """
        claimed = _claimed_by_this_request(self.env.cr)
        if message.id in claimed:
            message._inbound_lock(wait=True)
        else:
            message.invalidate_recordset()
            if message._inbound_to_apply() and message._inbound_lock():
                claimed.add(message.id)
        if message._inbound_in_progress_elsewhere():
            return inbox.refusal(
                inbox.IN_PROGRESS,
                self.env._("Request in progress"),
                self.env._("Another request with the same idempotency key is being applied; retry later."),
                slug="request-in-progress",
                retry_after=1,
                message_id=message.id,
            )
        if message.id not in claimed or not message._inbound_to_apply():
            return message._inbound_replay()
        return message._inbound_apply_in_order()

    def _inbound_technical_env(self):
        """The message in the environment it is applied in: its system's technical user,
        re-checked now (active, still linked to the system, member of the message's company),
        in the message's company alone, whoever triggers the application."""
        self.ensure_one()
        message = self.sudo()
        system = message.system_id
        # The sender first; another active technical user of the same system after it.
        candidates = (message.sender_user_id | system.with_context(active_test=False).user_ids).sudo()
        user = next(
            (
                user
                for user in candidates
                if user.active and user.mfg_system_id == system and message.company_id in user.company_ids
            ),
            None,
        )
        if not system.active or not user:
            raise UserError(
                self.env._(
                    "System %(system)s has no active technical user in company %(company)s to apply the event as.",
                    system=system.display_name,
                    company=message.company_id.name,
                )
            )
        context = dict(message.env.context, allowed_company_ids=message.company_id.ids)
        # su: the message record itself is read and written by the pipeline; handlers
        # receive the technical user's non-sudo environment (see _inbound_apply).
        return message.with_env(message.env(user=user.id, su=True, context=context))

    def _inbound_apply_in_order(self):
        """Apply this message as its system's technical user, then the messages of the same
        subject that waited for it, in order, as long as they succeed. Returns its InboxResult."""
        self.ensure_one()
        try:
            message = self._inbound_technical_env()
        except UserError as error:
            outcome = inbox.refusal(
                inbox.UNAVAILABLE,
                self.env._("Not configured"),
                self.env._("The system cannot apply events now."),
                slug="configuration-error",
                message_id=self.id,
            )
            outcome.internal_detail = error.args[0]
            self.sudo()._inbound_finish(outcome, None, fields.Datetime.now(), 0)
            return outcome
        outcome = message._inbound_apply()
        outcome.applied_as = message.env.user.name
        if outcome.ok:
            message._inbound_release_waiting()
        return outcome

    def _inbound_release_waiting(self):
        """Apply the messages that waited for this one (now processed or ignored), in order,
        up to the first that cannot be applied (the later ones keep waiting for it)."""
        self.ensure_one()
        if not self.order_key:
            return
        waiting = self.sudo().search(
            [
                ("direction", "=", "inbound"),
                ("system_id", "=", self.system_id.id),
                ("order_key", "=", self.order_key),
                ("state", "=", "waiting"),
            ],
            order="id",
        )
        for message in waiting:
            if not message._inbound_lock() or message.state != "waiting":
                return  # being applied by another transaction: it releases the rest
            try:
                outcome = message._inbound_technical_env()._inbound_apply()
            except UserError:
                return  # the system lost its technical user: the cron tries again later
            if not outcome.ok:
                return

    def _inbound_blocker(self):
        """The earliest message of the same system and subject received before this one and
        not yet processed or ignored, or an empty recordset."""
        self.ensure_one()
        if not self.order_key:
            return self.browse()
        return self.sudo().search(
            [
                ("direction", "=", "inbound"),
                ("system_id", "=", self.system_id.id),
                ("order_key", "=", self.order_key),
                ("id", "<", self.id),
                ("state", "not in", ("done", "cancelled")),
            ],
            order="id",
            limit=1,
        )

    def _inbound_apply(self):
        """Run the handler (message locked by the caller) and record the outcome.

        ``self`` is in the technical user's environment (su, see _inbound_technical_env)."""
        self.ensure_one()
        message = self.sudo()  # sudo: see _inbound_technical_env; handlers get self.env.user's env
        event_type = message.event_type_id
        event = json.loads(message.payload)
        started = time.monotonic()
        now = fields.Datetime.now()
        result = None
        blocker = message._inbound_blocker()
        if blocker:
            outcome = inbox.refusal(
                inbox.WAITING,
                self.env._("Waits for an earlier message"),
                self.env._(
                    "Message %(id)s about the same subject (%(subject)s) was received earlier and is not "
                    "processed yet; this one waits for message %(id)s and is applied after it.",
                    id=blocker.id,
                    subject=message.order_key,
                ),
                slug="waits-for-earlier-message",
                waits_for=blocker.id,
                message_id=message.id,
            )
            message._inbound_finish(outcome, None, now, 0, waits_for=blocker)
            return outcome
        try:
            if not event_type._handler_is_valid():
                raise MfgConfigurationError(
                    self.env._("Event type %(type)s has no valid handler.", type=event_type.code)
                )
            handler = getattr(message._inbound_handler_model(), event_type.handler_method)
            with self.env.cr.savepoint():
                result = handler(message, event.get("data"))
                if result is None:
                    result = {}
                json.dumps(result)  # refuse a non-serialisable result inside the savepoint
            outcome = inbox.processed(message.id, result)
        except psycopg2.OperationalError:
            raise  # serialization failure, lock timeout: Odoo retries the whole request
        except MfgConfigurationError as error:
            outcome = inbox.refusal(
                inbox.UNAVAILABLE,
                self.env._("Not configured"),
                self.env._("The event type cannot be applied now."),
                slug="configuration-error",
                message_id=message.id,
            )
            outcome.internal_detail = error.args[0]
        except AccessError as error:
            # Odoo's message names the user and its id: kept for support, not answered.
            outcome = inbox.refusal(
                inbox.FORBIDDEN,
                self.env._("Access denied while applying"),
                self.env._("The system's technical user lacks an access right needed to apply this event."),
                slug="access-denied",
                message_id=message.id,
            )
            outcome.internal_detail = error.args[0]
        except UserError as error:
            path = getattr(error, "path", None)
            errors = None
            if path:
                errors = [{"path": path if path.startswith("/data") else "/data" + path, "message": error.args[0]}]
            outcome = inbox.refusal(
                inbox.REFUSED,
                self.env._("Event cannot be applied"),
                error.args[0],
                slug="business-error",
                errors=errors,
                message_id=message.id,
            )
        except Exception:  # any crash is kept on the message for support
            incident = uuid.uuid4().hex
            _logger.exception("Inbound message %s (%s) failed, incident %s", message.id, event_type.code, incident)
            outcome = inbox.internal_error(incident, message.id)
            outcome.internal_detail = self.env._(
                "Internal error, incident %(incident)s: see the server log.", incident=incident
            )
        duration_ms = int((time.monotonic() - started) * 1000)
        message._inbound_finish(outcome, result, now, duration_ms)
        return outcome

    def _inbound_handler_model(self):
        """The handler's model in the environment this message is applied in: the technical user's
        (not sudo), with the message as the cause of what the handler changes and emits."""
        message = self.sudo()
        user_env = self.env(su=False)
        context = dict(
            user_env.context,
            mfg_correlation_id=message.correlation_id or message.event_id,
            mfg_causation_id=message.event_id,
            mfg_inbound_system_id=message.system_id.id,
        )
        return user_env(context=context)[message.event_type_id.handler_model]

    def _inbound_apply_together(self):
        """Apply these messages (locked by the caller, in the order received, about different
        subjects) with their handler's ``<handler_method>_many`` in one savepoint: returns their
        InboxResults in order, or None when they are to be applied one by one (no such handler,
        several systems, types or senders, one waits for an earlier message, or the group failed:
        rolled back, so that each message gets its own outcome from its own handler call)."""
        first = self[:1].sudo()
        event_type = first.event_type_id
        many = f"{event_type.handler_method}_many"
        if (
            len(self) < 2
            or len(self.event_type_id) > 1
            or len(self.system_id) > 1
            or len(self.company_id) > 1
            or len(self.sender_user_id) > 1
            or not event_type._handler_is_valid()
            or not hasattr(self.env[event_type.handler_model], many)
        ):
            return None
        try:
            messages = first._inbound_technical_env()
        except UserError:
            return None  # each message is refused with its own outcome
        messages = self.with_env(messages.env).sudo()  # sudo: as _inbound_technical_env
        if any(messages._inbound_blockers()):
            return None
        started, now = time.monotonic(), fields.Datetime.now()
        applications = [
            (message._inbound_handler_model(), message, json.loads(message.payload).get("data")) for message in messages
        ]
        try:
            with self.env.cr.savepoint():
                results = getattr(applications[0][0], many)(applications)
                results = [{} if result is None else result for result in results]
                json.dumps(results)  # refuse a non-serialisable result inside the savepoint
        except psycopg2.OperationalError:
            raise  # serialization failure, lock timeout: Odoo retries the whole request
        except Exception as error:  # noqa: BLE001 - each message's own handler call gives its own outcome
            _logger.info("Inbound messages %s applied one by one, not together: %s", messages.ids, error)
            return None
        duration_ms = int((time.monotonic() - started) * 1000 / len(messages))
        outcomes = []
        for message, result in zip(messages, results, strict=True):
            outcome = inbox.processed(message.id, result)
            outcome.applied_as = messages.env.user.name
            message._inbound_finish(outcome, result, now, duration_ms)
            outcomes.append(outcome)
        waited_for = (
            self.sudo()
            .search_fetch(
                [
                    ("direction", "=", "inbound"),
                    ("system_id", "=", first.system_id.id),
                    ("order_key", "in", [key for key in messages.mapped("order_key") if key]),
                    ("state", "=", "waiting"),
                ],
                ["order_key"],
            )
            .mapped("order_key")
        )
        for message in messages.filtered(lambda m: m.order_key in waited_for):
            message._inbound_release_waiting()
        return outcomes

    def _inbound_blockers(self):
        """For each of these messages, whether an earlier message of its system and subject is not
        yet processed or ignored (one query for them all, see _inbound_blocker)."""
        keys = [key for key in self.mapped("order_key") if key]
        earlier = (
            self.sudo().search_fetch(
                [
                    ("direction", "=", "inbound"),
                    ("system_id", "in", self.system_id.ids),
                    ("order_key", "in", keys),
                    ("id", "<", max(self.ids)),
                    ("state", "not in", ("done", "cancelled")),
                ],
                ["system_id", "order_key"],
            )
            if keys
            else self.browse()
        )
        return [
            any(
                other.id < message.id and other.order_key == message.order_key and other.system_id == message.system_id
                for other in earlier
            )
            for message in self
        ]

    def _inbound_finish(self, outcome, result, now, duration_ms, waits_for=None):
        """Record ``outcome`` (an InboxResult) as the message's current one (what a re-post answers)."""
        message = self.sudo().with_context(tracking_disable=True)
        error = path = None
        if not outcome.ok:
            error = outcome.internal_detail or outcome.body.get("detail") or outcome.body.get("title")
            if outcome.body.get("errors"):
                path = outcome.body["errors"][0].get("path")
        vals = {
            "claimed_until": False,
            "last_error": error or False,
            "error_path": path or False,
            "result_kind": outcome.kind,
            "response_body": json.dumps(outcome.body),
            "waits_for_id": waits_for.id if waits_for else False,
        }
        if outcome.kind == inbox.WAITING:
            vals["state"] = "waiting"
            if not message.res_model:
                vals.update(message._inbound_subject_record(None))  # shown on the order it waits on
            message.write(vals)
            return
        vals.update(attempt_count=message.attempt_count + 1, first_attempt_at=message.first_attempt_at or now)
        if outcome.ok:
            end = fields.Datetime.now()
            vals.update(
                state="done",
                done_at=end,
                latency_ms=int((end - message.create_date).total_seconds() * 1000),
                result_json=json.dumps(result),
            )
        else:
            vals.update(state="dead")
        if not message.res_model:
            vals.update(message._inbound_subject_record(result))
        message.write(vals)
        self.env["mfg.integration.attempt"].sudo().create(
            {
                "message_id": message.id,
                "attempted_at": now,
                "duration_ms": duration_ms,
                "response_excerpt": payload.excerpt(error or json.dumps(result), 2000),
            }
        )
        if not outcome.ok:
            message._inbound_notify_failure(error)

    def _inbound_subject_record(self, result):
        """The business record an inbound message is about, so that planners see it on that
        record (failed ones too): the event type's subject rule, else the first record the
        handler reports."""
        event_type = self.event_type_id
        if event_type.subject_model and event_type.subject_key:
            data = json.loads(self.payload).get("data") or {}
            name = data.get(event_type.subject_key)
            # sudo: only links the message to the record named in it, whatever the sender may read.
            Subject = self.env[event_type.subject_model].sudo()
            domain = [("name", "=", name)]
            if "company_id" in Subject._fields:  # never a record of another company with that name
                domain.append(("company_id", "in", [self.company_id.id, False]))
            record = Subject.search(domain, limit=1) if isinstance(name, str) else None
            if record:
                return {"res_model": record._name, "res_id": record.id}
        records = (result or {}).get("records") or []
        if records and records[0].get("model") in self.env:
            return {"res_model": records[0]["model"], "res_id": records[0]["id"]}
        return {}

    def _inbound_notify_failure(self, error):
        """Hook: raise an activity for the system's responsible (domain addons may extend)."""
        return

    def _inbound_replay(self):
        self.ensure_one()
        message = self.sudo()
        body = (
            json.loads(message.response_body)
            if message.response_body
            else {
                "message_id": message.id,
                "status": STATUS_NAMES.get(message.state, message.state),
            }
        )
        kind = message.result_kind or inbox.PROCESSED
        retry_after = WAITING_RETRY_AFTER if kind == inbox.WAITING and message.state == "waiting" else None
        return inbox.InboxResult(kind, body, message_id=message.id, retry_after=retry_after, replayed=True)

    def _inbound_status_document(self):
        """What GET /messages/<id> answers."""
        self.ensure_one()
        message = self.sudo()
        return {
            "message_id": message.id,
            "event_id": message.event_id,
            "type": message.event_type_id.code,
            "status": STATUS_NAMES.get(message.state, message.state),
            "waits_for": message.waits_for_id.id if message.state == "waiting" else None,
            "outcome": message.result_kind or None,
            "error": message.last_error or None,
            "result": json.loads(message.result_json) if message.result_json else None,
            "received_at": timeconv.to_rfc3339(message.create_date),
            "processed_at": timeconv.to_rfc3339(message.done_at) if message.done_at else None,
        }

    # -- async processing ----------------------------------------------------------

    @api.model
    def _cron_process_inbound(self, batch_size=50, time_budget=240):
        """Apply pending inbound messages (and those whose request died), oldest first."""
        deadline = time.monotonic() + time_budget
        done = 0
        while time.monotonic() < deadline:
            self.env.cr.execute(
                SQL(
                    """
                    SELECT id FROM mfg_integration_message
                     WHERE direction = 'inbound'
                       AND (state = 'pending' OR (state = 'in_progress' AND claimed_until < %s))
                     ORDER BY id
                     LIMIT %s
                       FOR UPDATE SKIP LOCKED
                    """,
                    fields.Datetime.now(),
                    GROUP_SIZE,
                )
            )
            messages = self.sudo().browse([row[0] for row in self.env.cr.fetchall()])
            if not messages:
                break
            kinds = [((m.system_id.id, m.event_type_id.id), m.order_key) if m.order_key else None for m in messages]
            for start, end in inbox.together_runs(kinds, GROUP_SIZE):
                group = messages[start:end]
                if len(group) < 2 or group._inbound_apply_together() is None:
                    for message in group:
                        message._inbound_apply_in_order()
            # One commit for the messages locked together: committing earlier would let another
            # cron run take the rest of them.
            self.env.cr.commit()
            done += len(messages)
        done += self._inbound_release_orphans()
        # Windows of the rate limiter older than an hour are of no use.
        self.env.cr.execute(
            "DELETE FROM mfg_integration_rate_window WHERE window_start < %s",
            [fields.Datetime.now() - timedelta(hours=1)],
        )
        return done

    @api.model
    def _inbound_release_orphans(self):
        """Apply waiting messages whose earlier message was settled by a transaction that
        could not see them yet (both concurrent); committed one subject at a time."""
        released = 0
        waiting = self.sudo().search([("direction", "=", "inbound"), ("state", "=", "waiting")], order="id")
        for message in waiting:
            message.invalidate_recordset()
            if message.state != "waiting" or message._inbound_blocker() or not message._inbound_lock():
                continue
            if message.state == "waiting":
                message._inbound_apply_in_order()
                # One subject at a time, committed like each message of the loop above.
                self.env.cr.commit()  # pylint: disable=invalid-commit
                released += 1
        return released

    # -- support actions ---------------------------------------------------------------

    def action_inbound_reprocess(self):
        """Apply failed inbound messages again (after master data or mappings were fixed), as
        their system's technical user in the message's company, then the messages that waited.
        Returns {message id: outcome kind} of the messages applied."""
        self._check_manager()
        results = {}
        for message in self.filtered(lambda m: m.direction == "inbound" and m.state == "dead"):
            sudo_message = message.sudo()
            if not sudo_message._inbound_lock() or sudo_message.state != "dead":
                continue  # applied or being applied meanwhile: at most once in total
            outcome = sudo_message._inbound_apply_in_order()
            results[message.id] = outcome.kind
            sudo_message.invalidate_recordset()
            as_user = outcome.applied_as or "-"
            if outcome.ok:
                body = self.env._(
                    "Reprocessed by %(user)s as %(technical_user)s: processed.",
                    user=self.env.user.name,
                    technical_user=as_user,
                )
            else:
                body = self.env._(
                    "Reprocessed by %(user)s as %(technical_user)s: failed again (%(outcome)s): %(error)s",
                    user=self.env.user.name,
                    technical_user=as_user,
                    outcome=self._fields["result_kind"].convert_to_export(outcome.kind, self),
                    error=sudo_message.last_error,
                )
            message.message_post(body=body)
        return results

    def action_inbound_ignore(self):
        self._check_manager()
        messages = self.filtered(lambda m: m.direction == "inbound" and m.state in ("dead", "pending", "waiting"))
        messages.sudo().write({"state": "cancelled", "claimed_until": False})
        for message in messages:
            message.message_post(body=self.env._("Ignored by %(user)s.", user=self.env.user.name))
        for message in messages.sorted("id"):
            # The messages about the same subject that waited for it are applied now.
            message.sudo()._inbound_release_waiting()
        return messages

    def action_inbound_edit_payload(self):
        self.ensure_one()
        self._check_manager()
        return {
            "type": "ir.actions.act_window",
            "name": _("Edit Payload and Reprocess"),
            "res_model": "mfg.integration.payload.edit.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_message_id": self.id},
        }

    def _inbound_edit_payload(self, new_event):
        """Replace the payload with ``new_event`` (same id and type), log it, reprocess."""
        self.ensure_one()
        self._check_manager()
        if self.direction != "inbound" or self.state != "dead":
            raise UserError(_("Only failed inbound messages can be edited."))
        old_event = json.loads(self.payload)
        if not isinstance(new_event, dict):
            raise UserError(_("The payload must be a JSON object (one CloudEvents event)."))
        for name in ("id", "type"):
            if new_event.get(name) != old_event.get(name):
                raise UserError(_("The event's %(name)s cannot be changed.", name=name))
        hostile = payload.unstorable(new_event, MAX_DEPTH)
        if hostile:
            path, reason = hostile
            raise UserError(self.env._("The edited event is invalid: %(path)s %(reason)s.", path=path, reason=reason))
        problems = cloudevents.envelope_errors(new_event)
        problems += self.event_type_id.schema_errors(new_event.get("data"), prefix="/data")
        if problems:
            raise UserError(
                _(
                    "The edited event is invalid:\n%(errors)s",
                    errors="\n".join(f"{p['path'] or '/'}: {p['message']}" for p in problems),
                )
            )
        old_text = self.payload
        new_text = payload.canonical_json(new_event)
        if new_text == old_text:
            raise UserError(_("The payload was not changed."))
        vals = {"payload": new_text, "order_key": self.event_type_id._order_key(new_event.get("data"))}
        if not self.original_payload:
            vals["original_payload"] = old_text
        # sudo: payload is read-only in the UI; managers change it only through here.
        self.sudo().write(vals)
        self.message_post(
            body=Markup("<p>%s</p><p><b>%s</b></p><pre>%s</pre><p><b>%s</b></p><pre>%s</pre>")
            % (
                _("Payload edited by %(user)s.", user=self.env.user.name),
                _("Before"),
                payload.pretty_json(old_text),
                _("After"),
                payload.pretty_json(new_text),
            )
        )
        return self.action_inbound_reprocess()


def _claimed_by_this_request(cr):
    """Messages this request (or, outside HTTP, e.g. a broker consumer, this cursor) already
    claimed: Odoo may re-run a request after a serialization failure, and the re-run must not
    answer 409 to itself."""
    from odoo.http import request

    holder = request or cr
    claimed = getattr(holder, "_mfg_inbound_claimed", None)
    if claimed is None:
        claimed = set()
        holder._mfg_inbound_claimed = claimed
    return claimed
