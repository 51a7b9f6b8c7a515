from datetime import timedelta
from urllib.parse import urlparse

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..lib import circuit, netpolicy, signing, transport, transports  # noqa: F401 (transports: registers them)
from ..lib.delivery import EndpointPolicy
from .secret_store import report_key_file_exposure, secret_box

ROTATION_GRACE = timedelta(hours=24)
NEW_SECRETS_KEY = "mfg_integration_new_endpoint_secrets"


class MfgIntegrationEndpoint(models.Model):
    """An outbound webhook receiver of an external system."""

    _name = "mfg.integration.endpoint"
    _description = "Integration Endpoint"
    _inherit = ["mail.thread", "mfg.integration.routing.mixin", "mfg.integration.company.mixin"]
    _order = "system_id, name"

    name = fields.Char(required=True, tracking=True)
    system_id = fields.Many2one("mfg.integration.system", required=True, ondelete="cascade", index=True, tracking=True)
    company_id = fields.Many2one(related="system_id.company_id", store=True, index=True)
    transport = fields.Selection(
        [("http_webhook", "HTTP webhook")],
        required=True,
        default="http_webhook",
        tracking=True,
        help="How messages reach the receiver.",
    )
    url = fields.Char(string="URL", required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    subscription_ids = fields.One2many("mfg.integration.subscription", "endpoint_id", string="Subscriptions", copy=True)
    timeout = fields.Float(string="Timeout (s)", default=10.0)
    max_attempts = fields.Integer(default=10, help="Attempts before the message is dead-lettered.")
    backoff_base = fields.Float(string="Backoff Base (s)", default=10.0)
    backoff_cap = fields.Float(string="Backoff Cap (s)", default=3600.0)
    max_parallel = fields.Integer(
        string="Parallel Deliveries",
        default=4,
        help="Requests the dispatcher may have in flight to this endpoint at once.",
    )
    ordered = fields.Boolean(
        string="Ordered per Record",
        help="Deliver the messages about one record in order: a message waits "
        "until the previous ones about the same record are delivered or dead-lettered.",
    )
    circuit_threshold = fields.Integer(
        string="Circuit: Unreachable Limit",
        default=3,
        help="Consecutive attempts without any answer (connection refused, timeout) that open the circuit.",
    )
    circuit_failure_ratio = fields.Float(
        string="Circuit: Failure Ratio",
        default=0.5,
        help="Share of failures over the last 20 attempts (at least 5 failures) that opens the circuit; "
        "while fewer than 20 attempts were made, the missing ones count as successes.",
    )
    circuit_cooldown = fields.Float(
        string="Circuit Cooldown (s)",
        default=10.0,
        help="How long an open circuit waits before one probe delivery; doubles while probes fail, never above 30 s.",
    )
    consecutive_failures = fields.Integer(readonly=True, copy=False)
    circuit_history = fields.Char(
        readonly=True, copy=False, help="Recent outcomes, oldest first: s success, f failure, c no answer."
    )
    circuit_trips = fields.Integer(readonly=True, copy=False, help="Openings in a row without a success.")
    circuit_open_until = fields.Datetime(readonly=True, copy=False)
    circuit_state = fields.Selection(
        [("closed", "Closed"), ("open", "Open"), ("half_open", "Half-open (probing)")],
        compute="_compute_circuit_state",
    )
    # Secrets are only ever stored encrypted (see secret_store) and never read back to the UI.
    secret_encrypted = fields.Text(copy=False, groups="base.group_system")
    previous_secret_encrypted = fields.Text(copy=False, groups="base.group_system")
    previous_secret_expires_at = fields.Datetime(copy=False, readonly=True)
    has_secret = fields.Boolean(compute="_compute_has_secret")
    new_secret = fields.Char(
        compute="_compute_new_secret",
        help="The signing secret generated with the endpoint, readable only in the request that created it.",
    )
    secret_rotated_at = fields.Datetime(readonly=True, copy=False)

    @api.depends("circuit_open_until", "consecutive_failures")
    def _compute_circuit_state(self):
        now = fields.Datetime.now()
        for endpoint in self:
            if not endpoint.circuit_open_until:
                endpoint.circuit_state = "closed"
            elif endpoint.circuit_open_until > now:
                endpoint.circuit_state = "open"
            else:
                endpoint.circuit_state = "half_open"

    def _compute_has_secret(self):
        # sudo: only tells whether a secret exists, never its value.
        for endpoint in self:
            endpoint.has_secret = bool(endpoint.sudo().secret_encrypted)

    def _compute_new_secret(self):
        created = self.env.cr.cache.get(NEW_SECRETS_KEY, {})
        for endpoint in self:
            endpoint.new_secret = created.pop(endpoint.id, False)  # once

    @api.constrains("url", "transport")
    def _check_url(self):
        for endpoint in self:
            parsed = urlparse(endpoint.url or "")
            schemes = transport.get(endpoint.transport).schemes
            if parsed.scheme not in schemes or not parsed.netloc:
                raise ValidationError(
                    self.env._(
                        "Endpoint URL %(url)s must be a %(schemes)s URL.", url=endpoint.url, schemes="/".join(schemes)
                    )
                )

    @api.constrains(
        "timeout",
        "max_attempts",
        "backoff_base",
        "backoff_cap",
        "circuit_threshold",
        "circuit_failure_ratio",
        "circuit_cooldown",
        "max_parallel",
    )
    def _check_policy(self):
        for endpoint in self:
            if endpoint.timeout <= 0 or endpoint.timeout > 120:
                raise ValidationError(self.env._("Timeout must be between 0 and 120 seconds."))
            if endpoint.max_attempts < 1:
                raise ValidationError(self.env._("Max attempts must be at least 1."))
            if endpoint.backoff_base <= 0 or endpoint.backoff_cap < endpoint.backoff_base:
                raise ValidationError(self.env._("Backoff base must be positive and not above the cap."))
            if endpoint.circuit_threshold < 1:
                raise ValidationError(self.env._("The circuit's unreachable limit must be at least 1."))
            if not 0 < endpoint.circuit_failure_ratio <= 1:
                raise ValidationError(self.env._("The circuit's failure ratio must be above 0 and at most 1."))
            if not 0 < endpoint.circuit_cooldown <= circuit.MAX_COOLDOWN:
                raise ValidationError(
                    self.env._("The circuit cooldown must be between 0 and %(max)s seconds.", max=circuit.MAX_COOLDOWN)
                )
            if not 1 <= endpoint.max_parallel <= 16:
                raise ValidationError(self.env._("Parallel deliveries must be between 1 and 16."))

    def _register_hook(self):
        super()._register_hook()
        report_key_file_exposure(self.env.cr.dbname)

    @api.model_create_multi
    def create(self, vals_list):
        endpoints = super().create(vals_list)
        # Every endpoint signs from the start. The secret is shown once: the form that creates the
        # endpoint reads it back in the same request (cursor cache, never stored in clear).
        created = self.env.cr.cache.setdefault(NEW_SECRETS_KEY, {})
        for endpoint in endpoints.filtered(lambda e: not e.has_secret):
            secret = signing.generate_secret()
            endpoint._store_secret(secret)
            created[endpoint.id] = secret
        return endpoints

    # -- delivery health (written by the dispatcher) ---------------------------

    def _dispatch_policy(self):
        """What the dispatcher needs of this endpoint for one batch (secrets decrypted once)."""
        self.ensure_one()
        return EndpointPolicy(
            id=self.id,
            transport=self.transport,
            timeout=self.timeout,
            max_attempts=self.max_attempts,
            backoff_base=self.backoff_base,
            backoff_cap=self.backoff_cap,
            max_parallel=self.max_parallel,
            secrets=self._signing_secrets(),
            failing=bool(self.consecutive_failures or self.circuit_open_until),
            settings={name: self[name] for name in transport.get(self.transport).endpoint_fields},
            address_policy=self.company_id._mfg_address_policy(),
        )

    def _record_circuit_outcomes(self, outcomes):
        """Feed attempts' outcomes (a string of circuit.SUCCESS/FAILURE/UNREACHABLE, in the order
        the answers came) to the circuit breaker; returns the circuit's new state.

        Every dispatcher, whatever its batch, updates the same row under a row lock. Successes
        on a healthy endpoint change nothing and take no lock: the hot path stays lock-free."""
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                """
                SELECT COALESCE(circuit_history, ''), circuit_open_until, COALESCE(circuit_trips, 0),
                       circuit_failure_ratio, circuit_threshold, circuit_cooldown,
                       clock_timestamp() AT TIME ZONE 'UTC'
                  FROM mfg_integration_endpoint
                 WHERE id = %(id)s
                   AND NOT (%(successes)s AND circuit_open_until IS NULL AND circuit_history = %(healthy)s)
                   FOR NO KEY UPDATE
                """,
                id=self.id,
                successes=not outcomes.strip(circuit.SUCCESS),
                healthy=circuit.SUCCESS * circuit.WINDOW,
            )
        )
        row = self.env.cr.fetchone()
        if row is None:
            return "closed"
        history, open_until, trips, ratio, unreachable_limit, cooldown, now = row
        policy = circuit.CircuitPolicy(failure_ratio=ratio, unreachable_limit=unreachable_limit, cooldown=cooldown)
        new = circuit.Circuit(history, open_until, trips)
        for outcome in outcomes:
            new = circuit.record(new, outcome, now, policy)
        self.env.cr.execute(
            SQL(
                """
                UPDATE mfg_integration_endpoint
                   SET circuit_history = %s, circuit_open_until = %s, circuit_trips = %s, consecutive_failures = %s
                 WHERE id = %s
                """,
                new.history,
                new.open_until,
                new.trips,
                new.consecutive_failures,
                self.id,
            )
        )
        self.invalidate_recordset(["circuit_history", "circuit_open_until", "circuit_trips", "consecutive_failures"])
        return new.state(now)

    # -- secrets -------------------------------------------------------------

    def _store_secret(self, secret, keep_previous=False):
        self.ensure_one()
        signing.secret_bytes(secret)  # refuse a malformed secret early
        box = secret_box(self.env)
        # sudo: the secret fields are restricted to system admins; the caller
        # (rotation by an integration manager, or endpoint creation) is checked before.
        endpoint = self.sudo()
        vals = {"secret_encrypted": box.encrypt(secret), "secret_rotated_at": fields.Datetime.now()}
        if keep_previous and endpoint.secret_encrypted:
            vals.update(
                previous_secret_encrypted=endpoint.secret_encrypted,
                previous_secret_expires_at=fields.Datetime.now() + ROTATION_GRACE,
            )
        endpoint.write(vals)

    def _signing_secrets(self):
        """Secrets to sign with: the current one, plus the previous one during rotation."""
        self.ensure_one()
        box = secret_box(self.env)
        # sudo: called by the dispatcher only, the values never leave the server unencrypted
        # except as HMAC signatures.
        endpoint = self.sudo()
        if not endpoint.secret_encrypted:
            raise UserError(self.env._("Endpoint %(name)s has no signing secret.", name=self.display_name))
        secrets = [box.decrypt(endpoint.secret_encrypted)]
        if (
            endpoint.previous_secret_encrypted
            and endpoint.previous_secret_expires_at
            and (endpoint.previous_secret_expires_at > fields.Datetime.now())
        ):
            secrets.append(box.decrypt(endpoint.previous_secret_encrypted))
        return secrets

    def action_rotate_secret(self):
        """Create a new signing secret and show it once; the old one still signs for 24 h."""
        self.ensure_one()
        self.env["mfg.integration.message"]._check_manager()
        self.check_access("write")  # _store_secret writes with sudo: check the company here
        secret = signing.generate_secret()
        self._store_secret(secret, keep_previous=True)
        self.message_post(body=self.env._("Signing secret rotated by %(user)s.", user=self.env.user.name))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("New signing secret (shown only once)"),
                "message": secret,
                "sticky": True,
                "type": "warning",
            },
        }

    def action_send_test_event(self):
        self.env["mfg.integration.message"]._check_manager()
        event_type = self.env.ref("mfg_integration.event_type_integration_ping")
        for endpoint in self:
            self.env["mfg.integration.message"].emit(
                event_type.code,
                endpoint,
                {"endpoint": endpoint.name, "system": endpoint.system_id.code, "message": "ping"},
                endpoints=endpoint,
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Test event queued"),
                "message": self.env._("The dispatcher sends it within seconds; see the endpoint's messages."),
                "type": "success",
            },
        }

    def action_reset_circuit(self):
        self.env["mfg.integration.message"]._check_manager()
        self.write(
            {"consecutive_failures": 0, "circuit_open_until": False, "circuit_history": False, "circuit_trips": 0}
        )

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("mfg_integration.mfg_integration_message_action")
        action["domain"] = [("endpoint_id", "=", self.id)]
        action["context"] = {}
        return action
