import pika

from odoo import api, fields, models

from ..lib.connection import BrokerSettings
from ..lib.transports.amqp import CONNECTION_ERRORS, AddressRefused, Publisher

CONNECTION_TEST_TIMEOUT = 10  # seconds


class MfgIntegrationAmqpBroker(models.Model):
    """A RabbitMQ (AMQP 0-9-1) broker: one connection configuration for AMQP endpoints and consumers."""

    _name = "mfg.integration.amqp.broker"
    _description = "AMQP Broker"
    _inherit = ["mfg.integration.broker.mixin"]
    _endpoint_field = "endpoint_ids"
    _url_fields = ("host", "port", "virtual_host", "tls")

    port = fields.Integer(default=5672)
    virtual_host = fields.Char(required=True, default="/", tracking=True)
    tls = fields.Boolean(help="Connect with TLS (AMQPS, usually port 5671), verifying the certificate.")
    username = fields.Char(required=True)
    endpoint_ids = fields.One2many("mfg.integration.endpoint", "amqp_broker_id", string="Endpoints")

    @api.depends("host", "port", "virtual_host", "tls")
    def _compute_display_name(self):
        for broker in self:
            broker.display_name = f"{broker.name} ({broker._url()})"

    def _url(self):
        self.ensure_one()
        vhost = (self.virtual_host or "/").replace("%", "%25").replace("/", "%2F")
        return f"{'amqps' if self.tls else 'amqp'}://{self.host}:{self.port}/{vhost}"

    def _connection_error(self):
        try:
            publisher = Publisher(self._settings(), self.company_id._mfg_address_policy(), CONNECTION_TEST_TIMEOUT)
        except AddressRefused as error:
            return self.env._("Refused by the outbound address policy: %(refusal)s", refusal=error)
        except (*CONNECTION_ERRORS, pika.exceptions.AMQPError) as error:
            return f"{type(error).__name__}: {error}"
        publisher.abort()
        return None

    def _settings(self):
        """Connection settings for the transport and the consumer (password decrypted here only)."""
        self.ensure_one()
        return BrokerSettings(
            host=self.host,
            port=self.port,
            vhost=self.virtual_host,
            tls=self.tls,
            username=self.username,
            password=self._secret("password_encrypted"),
        )
