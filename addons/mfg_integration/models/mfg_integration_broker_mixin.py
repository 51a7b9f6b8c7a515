from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .secret_store import secret_box


class MfgIntegrationBrokerMixin(models.AbstractModel):
    """What every message broker connection has (MQTT, AMQP): its address, TLS, a login whose password
    (and any other secret) is stored encrypted in the secret store, written once and never shown again,
    the endpoints publishing through it and a connection test.

    A broker model sets ``_endpoint_field`` (the endpoints' many2one to it), ``_url_fields`` (the fields
    its URL is made of) and implements ``_url`` and ``_connection_error``."""

    _name = "mfg.integration.broker.mixin"
    _description = "Integration Message Broker"
    _inherit = ["mail.thread", "mfg.integration.company.mixin"]
    _order = "name"
    _endpoint_field = ""
    _url_fields = ("host", "port", "tls")

    name = fields.Char(required=True, tracking=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    active = fields.Boolean(default=True)
    host = fields.Char(required=True, tracking=True)
    port = fields.Integer(required=True, tracking=True)
    tls = fields.Boolean(string="TLS", tracking=True, help="Connect with TLS, verifying the broker's certificate.")
    username = fields.Char(tracking=True)
    # Secrets are only ever stored encrypted (see secret_store) and never read back to the UI.
    password_encrypted = fields.Text(copy=False, groups="base.group_system")
    password = fields.Char(
        compute="_compute_password", inverse="_inverse_password", help="Stored encrypted; never shown again."
    )
    has_password = fields.Boolean(string="Password Set", compute="_compute_password")

    @api.constrains("host", "port")
    def _check_address(self):
        for broker in self:
            if not broker.host.strip() or any(c in broker.host for c in "/@: "):
                raise ValidationError(self.env._("The broker host must be a host name or an address, not a URL."))
            if not 0 < broker.port < 65536:
                raise ValidationError(self.env._("The port must be between 1 and 65535."))

    def _compute_password(self):
        self._compute_secret_fields("password", "password_encrypted", "has_password")

    def _compute_secret_fields(self, clear_field, encrypted_field, is_set_field):
        for broker in self:
            broker[clear_field] = False  # never shown
            # sudo: only tells whether a secret is stored, never its value.
            broker[is_set_field] = bool(broker.sudo()[encrypted_field])

    def _inverse_password(self):
        self._store_secret("password_encrypted", "password")

    def _store_secret(self, encrypted_field, clear_field):
        """Encrypts what was typed in ``clear_field`` into ``encrypted_field``; an empty value keeps the secret."""
        box = secret_box(self.env)
        for broker in self.filtered(clear_field):
            broker.check_access("write")  # the sudo write below bypasses record rules
            # sudo: the encrypted fields are restricted to administrators; managers set them only here.
            broker.sudo()[encrypted_field] = box.encrypt(broker[clear_field])
        self.invalidate_recordset([clear_field])  # the clear value must not stay readable in this transaction

    def _secret(self, encrypted_field):
        """The decrypted secret, for connecting only (never returned to a user, never logged)."""
        self.ensure_one()
        # sudo: decrypted to connect; the value leaves the server only in the broker's login.
        encrypted = self.sudo()[encrypted_field]
        return secret_box(self.env).decrypt(encrypted) if encrypted else ""

    def _url(self):
        """The broker's address without credentials, shown as the URL of its endpoints."""
        raise NotImplementedError

    def _connection_error(self):
        """None when a connection (and login) to the broker succeeds now, else why not, for people."""
        raise NotImplementedError

    def write(self, vals):
        result = super().write(vals)
        if set(self._url_fields) & set(vals):
            for broker in self:
                broker[self._endpoint_field].with_context(active_test=False).write({"url": broker._url()})
        return result

    def action_test_connection(self):
        self.ensure_one()
        self.check_access("write")  # a connection attempt from the server is a configuration action
        error = self._connection_error()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Connection failed") if error else self.env._("Connection succeeded"),
                "message": error or self.env._("Connected to %(url)s and logged in.", url=self._url()),
                "type": "danger" if error else "success",
                "sticky": bool(error),
            },
        }
