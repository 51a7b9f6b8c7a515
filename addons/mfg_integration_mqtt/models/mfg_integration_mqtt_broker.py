from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib.connection import BrokerSettings, ConnectError, address_refusal, connect, disconnect


class MfgIntegrationMqttBroker(models.Model):
    """One MQTT broker connection, used by MQTT endpoints (outbound) and subscribing systems (inbound)."""

    _name = "mfg.integration.mqtt.broker"
    _description = "MQTT Broker"
    _inherit = ["mfg.integration.broker.mixin"]
    _endpoint_field = "endpoint_ids"

    port = fields.Integer(default=1883)
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
    tls_ca = fields.Text(string="CA Certificates (PEM)", help="Empty: the system's trusted certificates.")
    tls_client_cert = fields.Text(string="Client Certificate (PEM)")
    tls_client_key_encrypted = fields.Text(copy=False, groups="base.group_system")
    tls_client_key = fields.Text(
        string="Client Key (PEM)",
        compute="_compute_tls_client_key",
        inverse="_inverse_tls_client_key",
        help="Stored encrypted; never shown again.",
    )
    has_tls_client_key = fields.Boolean(compute="_compute_tls_client_key")
    endpoint_ids = fields.One2many("mfg.integration.endpoint", "mqtt_broker_id", string="Endpoints")

    def _compute_tls_client_key(self):
        self._compute_secret_fields("tls_client_key", "tls_client_key_encrypted", "has_tls_client_key")

    def _inverse_tls_client_key(self):
        self._store_secret("tls_client_key_encrypted", "tls_client_key")

    @api.constrains("keepalive")
    def _check_keepalive(self):
        for broker in self:
            if not 0 <= broker.keepalive <= 65535:
                raise ValidationError(self.env._("The keep-alive must be between 0 and 65535 seconds."))

    def _url(self):
        self.ensure_one()
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    def _connection_error(self):
        settings = self._broker_settings()
        refusal = address_refusal(settings.host, self.company_id._mfg_address_policy())
        if refusal:
            return self.env._("Refused by the outbound address policy: %(refusal)s", refusal=refusal)
        try:
            client = connect(settings, f"{settings.client_id}-test")
        except ConnectError as error:
            return str(error)
        disconnect(client)
        return None

    def _broker_settings(self):
        """The connection settings, secrets decrypted, for the transport and the consumers (no ORM there)."""
        self.ensure_one()
        return BrokerSettings(
            host=self.host,
            port=self.port,
            protocol=self.protocol,
            keepalive=self.keepalive,
            client_id=self.client_id or f"odoo-mfg-{self.env.cr.dbname}",
            username=self.username or "",
            password=self._secret("password_encrypted"),
            tls=self.tls,
            ca_pem=self.tls_ca or "",
            cert_pem=self.tls_client_cert or "",
            key_pem=self._secret("tls_client_key_encrypted"),
        )
