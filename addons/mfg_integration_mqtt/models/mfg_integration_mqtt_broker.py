from odoo import api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.mfg_integration.models.secret_store import secret_box

from ..lib.connection import BrokerSettings


class MfgIntegrationMqttBroker(models.Model):
    """One MQTT broker connection, used by MQTT endpoints (outbound) and subscribing systems (inbound)."""

    _name = "mfg.integration.mqtt.broker"
    _description = "MQTT Broker"
    _inherit = ["mail.thread", "mfg.integration.company.mixin"]
    _order = "name"

    name = fields.Char(required=True, tracking=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    active = fields.Boolean(default=True)
    host = fields.Char(required=True, tracking=True)
    port = fields.Integer(required=True, default=1883, tracking=True)
    protocol = fields.Selection(
        [("auto", "MQTT 5, else 3.1.1"), ("5", "MQTT 5"), ("3.1.1", "MQTT 3.1.1")],
        required=True,
        default="auto",
        help="MQTT 5 carries the CloudEvents content type and, in binary mode, the attributes as user "
        "properties; with 3.1.1 events are sent in structured mode.",
    )
    keepalive = fields.Integer(string="Keep-Alive (s)", default=60)
    client_id = fields.Char(
        string="Client ID",
        help="Prefix of the client ids: '<prefix>-out-<host>-<pid>' per publishing Odoo process, "
        "'<prefix>-in-<system id>' for a system's persistent subscription. Default: odoo-mfg-<database>.",
    )
    username = fields.Char(tracking=True)
    tls = fields.Boolean(string="TLS", tracking=True)
    tls_ca = fields.Text(string="CA Certificates (PEM)", help="Empty: the system's trusted certificates.")
    tls_client_cert = fields.Text(string="Client Certificate (PEM)")
    # Secrets are only ever stored encrypted (see the core's secret_store) and never read back to the UI.
    password_encrypted = fields.Text(copy=False, groups="base.group_system")
    tls_client_key_encrypted = fields.Text(copy=False, groups="base.group_system")
    password = fields.Char(
        compute="_compute_secrets", inverse="_inverse_password", help="Stored encrypted; never shown again."
    )
    tls_client_key = fields.Text(
        string="Client Key (PEM)",
        compute="_compute_secrets",
        inverse="_inverse_tls_client_key",
        help="Stored encrypted; never shown again.",
    )
    has_password = fields.Boolean(compute="_compute_secrets")
    has_tls_client_key = fields.Boolean(compute="_compute_secrets")
    endpoint_ids = fields.One2many("mfg.integration.endpoint", "mqtt_broker_id", string="Endpoints")

    def _compute_secrets(self):
        for broker in self:
            # sudo: only tells whether a secret exists, never its value.
            stored = broker.sudo()
            broker.password = False
            broker.tls_client_key = False
            broker.has_password = bool(stored.password_encrypted)
            broker.has_tls_client_key = bool(stored.tls_client_key_encrypted)

    def _inverse_password(self):
        self._store_secret("password_encrypted", "password")

    def _inverse_tls_client_key(self):
        self._store_secret("tls_client_key_encrypted", "tls_client_key")

    def _store_secret(self, encrypted_field, clear_field):
        box = secret_box(self.env)
        for broker in self:
            if broker[clear_field]:
                broker.check_access("write")  # the sudo write below bypasses record rules
                # sudo: the encrypted fields are restricted to administrators; managers set them only here.
                broker.sudo()[encrypted_field] = box.encrypt(broker[clear_field])

    @api.constrains("port", "keepalive")
    def _check_numbers(self):
        for broker in self:
            if not 0 < broker.port < 65536:
                raise ValidationError(self.env._("The port must be between 1 and 65535."))
            if not 0 <= broker.keepalive <= 65535:
                raise ValidationError(self.env._("The keep-alive must be between 0 and 65535 seconds."))

    def _url(self):
        self.ensure_one()
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    def write(self, vals):
        result = super().write(vals)
        if {"host", "port", "tls"} & set(vals):
            for broker in self:
                broker.endpoint_ids.with_context(active_test=False).write({"url": broker._url()})
        return result

    def _broker_settings(self):
        """The connection settings, secrets decrypted, for the transport and the consumers (no ORM there)."""
        self.ensure_one()
        box = secret_box(self.env)
        # sudo: the secrets are decrypted to connect, never returned to a user.
        stored = self.sudo()
        return BrokerSettings(
            host=self.host,
            port=self.port,
            protocol=self.protocol,
            keepalive=self.keepalive,
            client_id=self.client_id or f"odoo-mfg-{self.env.cr.dbname}",
            username=self.username or "",
            password=box.decrypt(stored.password_encrypted) if stored.password_encrypted else "",
            tls=self.tls,
            ca_pem=self.tls_ca or "",
            cert_pem=self.tls_client_cert or "",
            key_pem=box.decrypt(stored.tls_client_key_encrypted) if stored.tls_client_key_encrypted else "",
        )
