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
"""

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

import psycopg2
from markupsafe import Markup
from psycopg2 import errors as pg_errors

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..exceptions import MfgBusinessError
from ..lib import cloudevents, payload, problem, ratelimit

_logger = logging.getLogger(__name__)

# A request applying an event holds a row lock on its message; this lease also
# covers the short moment between storing the message and taking that lock, and
# lets the inbound cron take over messages whose request died.
LEASE_SECONDS = 120
STATUS_NAMES = {
    "pending": "pending",
    "in_progress": "in_progress",
    "retry": "pending",
    "done": "processed",
    "dead": "failed",
    "cancelled": "ignored",
}


@dataclass
class Outcome:
    """What the API answers for one event."""

    status: int
    body: dict
    headers: dict = field(default_factory=dict)
    message_id: int = None
    replayed: bool = False

    @property
    def is_problem(self):
        return self.status >= 400


def problem_outcome(status, title, detail=None, *, slug=None, errors=None, headers=None, **ext):
    body = problem.problem(status, title, detail, slug=slug, errors=errors, **ext)
    return Outcome(status, body, dict(headers or {}))


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
    response_status = fields.Integer(
        string="Response Status", readonly=True, help="Inbound: HTTP status answered (replayed on a retry)."
    )
    response_body = fields.Text(readonly=True, help="Inbound: JSON body answered (replayed on a retry).")
    error_path = fields.Char(readonly=True, help="Inbound: where in the event the last error points.")

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
        """Check, store and apply (or queue) one received event; returns an Outcome."""
        outcome = self._inbound_check(system, event)
        if outcome:
            return outcome
        event_type = self.env["mfg.integration.event.type"].sudo()._get_by_code(event["type"], "inbound")
        key = idempotency_key or event["id"]
        text = payload.canonical_json(event)
        digest = payload.sha256_hex(text)
        run_async = bool(prefer_async or system.async_processing)
        message_id, created = self._inbound_store(system, event_type, event, key, text, digest, run_async)
        # sudo: the technical user has no rights on the integration messages; it
        # only reaches the message of its own system it just stored.
        message = self.sudo().browse(message_id)
        if not created:
            if message.payload_sha256 != digest:
                return problem_outcome(
                    422,
                    _("Idempotency key reused"),
                    _("Idempotency key %(key)s was already used with a different payload.", key=key),
                    slug="idempotency-key-reused",
                    message_id=message.id,
                )
            if message.state == "in_progress" or not message.response_status:
                return self._inbound_apply_message(message)
            return message._inbound_replay()
        if run_async:
            self.env.ref("mfg_integration.ir_cron_process_inbound").sudo()._trigger()
            return Outcome(message.response_status, json.loads(message.response_body), message_id=message.id)
        _claimed_by_this_request().add(message.id)  # stored by this very request
        return self._inbound_apply_message(message)

    @api.model
    def _inbound_check(self, system, event):
        """The problem with a received event before it is stored, or None."""
        if not isinstance(event, dict):
            return problem_outcome(
                422,
                _("Invalid event"),
                _("The body must be one CloudEvents 1.0 event (a JSON object)."),
                slug="invalid-event",
                errors=[{"path": "", "message": _("expected a JSON object")}],
            )
        nul_path = _nul_path(event)
        if nul_path is not None:
            return problem_outcome(
                422,
                _("Invalid event"),
                _("Strings may not contain NUL characters."),
                slug="invalid-event",
                errors=[{"path": nul_path, "message": _("contains a NUL character")}],
            )
        errors = cloudevents.envelope_errors(event)
        if "time" not in event:
            errors.append({"path": "/time", "message": _("'time' is a required property")})
        if errors:
            return problem_outcome(
                422,
                _("Invalid event"),
                _("The event is not a valid CloudEvents 1.0 event."),
                slug="invalid-event",
                errors=errors,
            )
        # sudo: the catalog is configuration, readable by every sender.
        event_type = self.env["mfg.integration.event.type"].sudo()._get_by_code(event["type"], "inbound")
        if not event_type:
            return problem_outcome(
                422,
                _("Unknown event type"),
                _("%(type)s is not a known inbound event type.", type=event["type"]),
                slug="unknown-event-type",
                errors=[{"path": "/type", "message": _("unknown inbound event type")}],
            )
        if event_type not in system.sudo().inbound_event_type_ids:
            return problem_outcome(
                403,
                _("Event type not allowed"),
                _("System %(system)s may not send %(type)s.", system=system.code, type=event_type.code),
                slug="event-type-not-allowed",
            )
        errors = event_type.schema_errors(event["data"], prefix="/data")
        if errors:
            return problem_outcome(
                422,
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
    def _inbound_store(self, system, event_type, event, key, text, digest, run_async):
        """Find or create the inbox message of (system, key) and commit it.

        Returns (message id, created). Runs on its own cursor so the message is
        committed before it is applied; the request's transaction is then ended
        (committed: it wrote nothing yet) so that its next snapshot sees the message.
        """
        with self._independent_cursor() as cr:
            # Serialises requests carrying the same key: the second one waits
            # until the first committed its message, then finds it.
            cr.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [system.id, key])
            # sudo: the technical user writes the inbox only through this method.
            Message = (
                self.with_env(self.env(cr=cr))
                .sudo()
                .with_context(tracking_disable=True, mail_create_nolog=True, mail_notrack=True)
            )
            existing = Message.search(
                [("direction", "=", "inbound"), ("system_id", "=", system.id), ("idempotency_key", "=", key)],
                limit=1,
            )
            if existing:
                message_id, created = existing.id, False
            else:
                extensions_correlation = event.get("correlationid")
                vals = {
                    "direction": "inbound",
                    "event_type_id": event_type.id,
                    "event_id": event["id"],
                    "system_id": system.id,
                    "company_id": system.company_id.id,
                    "sender_user_id": self.env.uid,
                    "subject": event.get("subject") or event["id"],
                    "payload": text,
                    "payload_sha256": digest,
                    "idempotency_key": key,
                    "correlation_id": extensions_correlation
                    if isinstance(extensions_correlation, str)
                    else event["id"],
                    "causation_id": event.get("causationid") if isinstance(event.get("causationid"), str) else False,
                    "next_attempt_at": fields.Datetime.now(),
                }
                if run_async:
                    vals["state"] = "pending"
                else:
                    vals.update(
                        state="in_progress",
                        claimed_until=fields.Datetime.now() + timedelta(seconds=LEASE_SECONDS),
                    )
                message = Message.create(vals)
                if run_async:
                    message.write(
                        {
                            "response_status": 202,
                            "response_body": json.dumps({"message_id": message.id, "status": "pending"}),
                        }
                    )
                message_id, created = message.id, True
        self.env.cr.commit()
        return message_id, created

    # -- applying ----------------------------------------------------------------

    def _inbound_lock(self):
        """Row-lock the message in this transaction; False when another one holds it."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    "SELECT id FROM mfg_integration_message WHERE id = %s FOR UPDATE NOWAIT",
                    [self.id],
                    log_exceptions=False,
                )
        except pg_errors.LockNotAvailable:
            return False
        self.invalidate_recordset()
        return True

    @api.model
    def _inbound_apply_message(self, message):
        """Apply ``message`` as the current user unless it is applied elsewhere or already.

        ``self.env`` is the technical user's environment; ``message`` is sudo.
        """
        claimed = _claimed_by_this_request()
        busy = not message._inbound_lock() or (
            message.state == "in_progress"
            and message.claimed_until
            and message.claimed_until > fields.Datetime.now()
            and message.id not in claimed
        )
        if busy:
            return problem_outcome(
                409,
                _("Request in progress"),
                _("Another request with the same idempotency key is being applied; retry later."),
                slug="request-in-progress",
                headers={"Retry-After": "1"},
                message_id=message.id,
            )
        claimed.add(message.id)
        if message.state not in ("pending", "in_progress", "retry", "dead"):
            return message._inbound_replay()
        return message.with_env(message.env(user=self.env.uid, su=True))._inbound_apply()

    def _inbound_apply(self):
        """Run the handler (message locked by the caller) and record the outcome."""
        self.ensure_one()
        message = self.sudo()  # sudo: see _inbound_apply_message; handlers get self.env.user's env
        user_env = self.env(su=False)
        event_type = message.event_type_id
        event = json.loads(message.payload)
        started = time.monotonic()
        now = fields.Datetime.now()
        result = None
        try:
            if not event_type.handler_model or not event_type.handler_method:
                raise MfgBusinessError(_("Event type %(type)s has no handler.", type=event_type.code))
            handler_env = user_env(
                context=dict(
                    user_env.context,
                    mfg_correlation_id=message.correlation_id or message.event_id,
                    mfg_causation_id=message.event_id,
                    mfg_inbound_system_id=message.system_id.id,
                )
            )
            handler = getattr(handler_env[event_type.handler_model], event_type.handler_method)
            with self.env.cr.savepoint():
                result = handler(message, event.get("data"))
                if result is None:
                    result = {}
                json.dumps(result)  # refuse a non-serialisable result inside the savepoint
            outcome = Outcome(200, {"message_id": message.id, "status": "processed", "result": result})
        except psycopg2.OperationalError:
            raise  # serialization failure, lock timeout: Odoo retries the whole request
        except AccessError as error:
            outcome = problem_outcome(
                403,
                _("Access denied while applying"),
                _("The technical user may not apply this event: %(error)s", error=error.args[0]),
                slug="access-denied",
            )
        except UserError as error:
            path = getattr(error, "path", None)
            errors = None
            if path:
                errors = [{"path": path if path.startswith("/data") else "/data" + path, "message": error.args[0]}]
            outcome = problem_outcome(
                422, _("Event cannot be applied"), error.args[0], slug="business-error", errors=errors
            )
        except Exception as error:
            _logger.exception("Inbound message %s (%s) failed", message.id, event_type.code)
            outcome = problem_outcome(
                500,
                _("Internal error"),
                _("Unexpected error while applying the event; it is kept for support: %(error)s", error=error),
                slug="internal-error",
            )
        outcome.message_id = message.id
        if outcome.is_problem:
            outcome.body["message_id"] = message.id
        duration_ms = int((time.monotonic() - started) * 1000)
        self._inbound_record(outcome, result, now, duration_ms)
        return outcome

    def _inbound_record(self, outcome, result, now, duration_ms):
        message = self.sudo().with_context(tracking_disable=True)
        error = None if outcome.status < 400 else outcome.body.get("detail") or outcome.body.get("title")
        path = None
        if outcome.is_problem and outcome.body.get("errors"):
            path = outcome.body["errors"][0].get("path")
        vals = {
            "attempt_count": message.attempt_count + 1,
            "first_attempt_at": message.first_attempt_at or now,
            "claimed_until": False,
            "last_http_status": outcome.status,
            "last_error": error or False,
            "error_path": path or False,
        }
        if not message.response_status:
            # The first answer is the one replayed to a client sending the same key again
            # (a 202 for asynchronous messages); the current state is on GET /messages/<id>.
            vals.update(response_status=outcome.status, response_body=json.dumps(outcome.body))
        if outcome.status < 400:
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
                "http_status": outcome.status,
                "response_excerpt": payload.excerpt(error or json.dumps(result), 2000),
            }
        )
        if outcome.status >= 400:
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
            record = (
                self.env[event_type.subject_model].sudo().search([("name", "=", name)], limit=1)
                if isinstance(name, str)
                else None
            )
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
        headers = {"Idempotent-Replayed": "true"}
        status = message.response_status or 200
        if status >= 400:
            headers["Content-Type"] = problem.CONTENT_TYPE
        return Outcome(status, body, headers, message_id=message.id, replayed=True)

    def _inbound_status_document(self):
        """What GET /messages/<id> answers."""
        self.ensure_one()
        message = self.sudo()
        from ..lib import timeconv

        return {
            "message_id": message.id,
            "event_id": message.event_id,
            "type": message.event_type_id.code,
            "status": STATUS_NAMES.get(message.state, message.state),
            "http_status": message.response_status or None,
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
                     LIMIT 1
                       FOR UPDATE SKIP LOCKED
                    """,
                    fields.Datetime.now(),
                )
            )
            row = self.env.cr.fetchone()
            if not row:
                break
            message = self.sudo().browse(row[0])
            user = message.sender_user_id or message.system_id.user_ids[:1]
            if not user:
                message.write({"state": "dead", "last_error": _("The system has no technical user to apply it as.")})
            else:
                message.with_env(message.env(user=user.id, su=True))._inbound_apply()
            self.env.cr.commit()
            done += 1
        # Windows of the rate limiter older than an hour are of no use.
        self.env.cr.execute(
            "DELETE FROM mfg_integration_rate_window WHERE window_start < %s",
            [fields.Datetime.now() - timedelta(hours=1)],
        )
        return done

    # -- support actions ---------------------------------------------------------------

    def action_inbound_reprocess(self):
        """Apply failed inbound messages again (after master data or mappings were fixed)."""
        self._check_manager()
        results = {}
        for message in self.filtered(lambda m: m.direction == "inbound" and m.state == "dead"):
            sudo_message = message.sudo()
            if not sudo_message._inbound_lock() or sudo_message.state != "dead":
                continue  # applied or being applied meanwhile: at most once in total
            user = sudo_message.sender_user_id or sudo_message.system_id.user_ids[:1]
            if not user:
                raise UserError(_("System %(system)s has no technical user.", system=message.system_id.display_name))
            outcome = sudo_message.with_env(sudo_message.env(user=user.id, su=True))._inbound_apply()
            results[message.id] = outcome.status
            if outcome.status < 400:
                body = _("Reprocessed by %(user)s: processed.", user=self.env.user.name)
            else:
                body = _(
                    "Reprocessed by %(user)s: failed again: %(error)s",
                    user=self.env.user.name,
                    error=sudo_message.last_error,
                )
            message.message_post(body=body)
        return results

    def action_inbound_ignore(self):
        self._check_manager()
        messages = self.filtered(lambda m: m.direction == "inbound" and m.state in ("dead", "pending"))
        messages.sudo().write({"state": "cancelled", "claimed_until": False})
        for message in messages:
            message.message_post(body=_("Ignored by %(user)s.", user=self.env.user.name))
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
        vals = {"payload": new_text}
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


def _nul_path(value, path=""):
    """JSON pointer of the first string (or member name) containing NUL, which
    PostgreSQL cannot store; None when there is none."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}/{key.replace('~', '~0').replace('/', '~1')}"
            if "\x00" in key:
                return child
            found = _nul_path(item, child)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_path(item, f"{path}/{index}")
            if found is not None:
                return found
    return None


def _claimed_by_this_request():
    """Messages this HTTP request already claimed (Odoo may re-run a request after a
    serialization failure; the re-run must not answer 409 to itself)."""
    from odoo.http import request

    if not request:
        return set()
    claimed = getattr(request, "_mfg_inbound_claimed", None)
    if claimed is None:
        claimed = set()
        request._mfg_inbound_claimed = claimed
    return claimed
