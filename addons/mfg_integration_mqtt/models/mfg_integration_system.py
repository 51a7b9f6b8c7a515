from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib import topics
from ..lib.consumer import MqttConsumer


class MfgIntegrationSystem(models.Model):
    _inherit = "mfg.integration.system"

    mqtt_broker_id = fields.Many2one(
        "mfg.integration.mqtt.broker",
        string="Subscribe on Broker",
        ondelete="restrict",
        help="Receive this system's events from this MQTT broker (as its technical user), besides the REST API.",
    )
    mqtt_topic_filter = fields.Char(
        string="Topic Filter",
        help="What to subscribe to (QoS 1, persistent session), e.g. acme/NP/+/mes/# ; each message is one "
        "CloudEvent (structured mode, or binary mode with MQTT 5 user properties).",
    )
    mqtt_dead_letter_topic = fields.Char(
        string="Dead-Letter Topic",
        help="Refused messages (not JSON, invalid, not allowed) are published here with the reason, then "
        "acknowledged. Default: mfg/deadletter/<system code>.",
    )

    @api.constrains("mqtt_broker_id", "mqtt_topic_filter", "mqtt_dead_letter_topic")
    def _check_mqtt_subscription(self):
        self._check_inbound_broker_company("mqtt_broker_id")
        for system in self.filtered("mqtt_broker_id"):
            errors = topics.filter_errors(system.mqtt_topic_filter)
            dead_letter = system._mqtt_dead_letter_topic()
            if "+" in dead_letter or "#" in dead_letter or dead_letter.startswith("$"):
                errors.append(self.env._("the dead-letter topic cannot hold wildcards nor start with $"))
            if errors:
                raise ValidationError(
                    self.env._(
                        "MQTT subscription of %(system)s: %(errors)s", system=system.code, errors="; ".join(errors)
                    )
                )

    def _mqtt_dead_letter_topic(self):
        self.ensure_one()
        return self.mqtt_dead_letter_topic or f"mfg/deadletter/{topics.level(self.code)}"

    @api.model
    def _mfg_broker_consumers(self):
        consumers = super()._mfg_broker_consumers()
        for system in self._systems_receiving_from("mqtt_broker_id"):
            settings = system.mqtt_broker_id._broker_settings()
            consumers.append(
                MqttConsumer(
                    key=f"mqtt:{system.id}",
                    system_id=system.id,
                    settings=settings,
                    client_id=f"{settings.client_id}-in-{system.id}",
                    topic_filter=system.mqtt_topic_filter,
                    dead_letter_topic=system._mqtt_dead_letter_topic(),
                )
            )
        return consumers
