from odoo import api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.mfg_integration.models.secret_store import secret_box

from ..lib.connection import BrokerSettings


class MfgIntegrationAmqpBroker(models.Model):
    """A RabbitMQ (AMQP 0-9-1) broker: one connection configuration for AMQP endpoints and consumers."""

    _name = "mfg.integration.amqp.broker"
    _description = "AMQP Broker"
    _inherit = ["mail.thread", "mfg.integration.company.mixin"]
    _order = "name"

    name = fields.Char(required=True, tracking=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    active = fields.Boolean(default=True)
    host = fields.Char(required=True, tracking=True)
    port = fields.Integer(required=True, default=5672, tracking=True)
    virtual_host = fields.Char(required=True, default="/", tracking=True)
    use_tls = fields.Boolean(
        string="TLS", tracking=True, help="Connect with TLS (AMQPS, usually port 5671), verifying the certificate."
    )
    username = fields.Char(required=True, tracking=True)
    # Only ever stored encrypted (secret store) and never read back to the UI.
    password_encrypted = fields.Text(copy=False, groups="base.group_system")
    password = fields.Char(
        compute="_compute_password",
        inverse="_inverse_password",
        help="Write-only: stored encrypted, never shown again.",
    )
    has_password = fields.Boolean(compute="_compute_has_password")
    endpoint_ids = fields.One2many("mfg.integration.endpoint", "amqp_broker_id", string="Endpoints")

    _sql_constraints = [
        ("port_range", "CHECK(port BETWEEN 1 AND 65535)", "The port must be between 1 and 65535."),
    ]

    def _compute_password(self):
        self.password = False  # never shown

    def _inverse_password(self):
        box = secret_box(self.env)
        for broker in self.filtered("password"):
            # sudo: the encrypted field is restricted to system admins; the caller passed the write check.
            broker.sudo().password_encrypted = box.encrypt(broker.password)
        self.invalidate_recordset(["password"])  # the clear value must not stay readable in this transaction

    def _compute_has_password(self):
        # sudo: only tells whether a password is stored, never its value.
        for broker in self:
            broker.has_password = bool(broker.sudo().password_encrypted)

    @api.constrains("host", "virtual_host")
    def _check_host(self):
        for broker in self:
            if not broker.host.strip() or any(c in broker.host for c in "/@: "):
                raise ValidationError(self.env._("The broker host must be a host name or an address, not a URL."))

    @api.depends("host", "port", "virtual_host", "use_tls")
    def _compute_display_name(self):
        for broker in self:
            broker.display_name = f"{broker.name} ({broker._url()})"

    def _url(self):
        """The broker's address without credentials, shown as the URL of its endpoints."""
        self.ensure_one()
        vhost = (self.virtual_host or "/").replace("%", "%25").replace("/", "%2F")
        return f"{'amqps' if self.use_tls else 'amqp'}://{self.host}:{self.port}/{vhost}"

    def _settings(self):
        """Connection settings for the transport and the consumer (password decrypted here only)."""
        self.ensure_one()
        # sudo: the dispatcher and the consumer runner connect with it; the value leaves the server only
        # in the broker's login (never logged, never in a repr).
        encrypted = self.sudo().password_encrypted
        return BrokerSettings(
            host=self.host,
            port=self.port,
            vhost=self.virtual_host,
            tls=self.use_tls,
            username=self.username,
            password=secret_box(self.env).decrypt(encrypted) if encrypted else "",
        )

    def write(self, vals):
        result = super().write(vals)
        if {"host", "port", "virtual_host", "use_tls"} & set(vals):
            for broker in self:
                broker.endpoint_ids.write({"url": broker._url()})
        return result
