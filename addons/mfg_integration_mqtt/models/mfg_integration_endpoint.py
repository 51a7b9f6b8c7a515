from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib import topics

DEFAULT_TOPIC = "{enterprise}/{plant}/{area}/mfg/{entity}/{event}"


class MfgIntegrationEndpoint(models.Model):
    _inherit = "mfg.integration.endpoint"

    transport = fields.Selection(selection_add=[("mqtt", "MQTT")], ondelete={"mqtt": "cascade"})
    mqtt_broker_id = fields.Many2one("mfg.integration.mqtt.broker", string="MQTT Broker", ondelete="restrict")
    mqtt_topic_template = fields.Char(
        string="Topic",
        default=DEFAULT_TOPIC,
        help="ISA-95 levels and event fields: "
        + ", ".join(f"{{{name}}}: {text}" for name, text in topics.PLACEHOLDERS.items()),
    )
    mqtt_state_topic_template = fields.Char(
        string="Retained State Topic",
        help="Optional: each event is also published here, retained, so that a consumer joining later reads "
        "the record's latest event at once, e.g. {enterprise}/{plant}/{area}/mfg/{entity}/{subject}/state.",
    )
    mqtt_enterprise = fields.Char(
        string="Enterprise Level", help="The {enterprise} level; default: the company's name."
    )
    mqtt_qos = fields.Integer(string="QoS", default=1, help="1 (default): delivered on the broker's PUBACK.")
    mqtt_binary_mode = fields.Boolean(
        string="Binary Mode",
        help="CloudEvents binary mode: the data as the payload, the attributes as MQTT 5 user properties. "
        "Default: structured mode (the whole event as JSON).",
    )

    @api.constrains("transport", "mqtt_broker_id", "mqtt_topic_template", "mqtt_state_topic_template", "mqtt_qos")
    def _check_mqtt(self):
        for endpoint in self.filtered(lambda e: e.transport == "mqtt"):
            if not endpoint.mqtt_broker_id:
                raise ValidationError(self.env._("An MQTT endpoint needs its broker."))
            if endpoint.mqtt_broker_id.company_id != endpoint.company_id:
                raise ValidationError(self.env._("The MQTT broker must belong to the endpoint's company."))
            if endpoint.mqtt_qos not in (0, 1, 2):
                raise ValidationError(self.env._("QoS is 0, 1 or 2."))
            for name in ("mqtt_topic_template", "mqtt_state_topic_template"):
                if name == "mqtt_state_topic_template" and not endpoint[name]:
                    continue
                errors = topics.template_errors(endpoint[name])
                if errors:
                    raise ValidationError(
                        self.env._(
                            "%(field)s %(template)s: %(errors)s",
                            field=endpoint._fields[name].string,
                            template=endpoint[name] or "",
                            errors="; ".join(errors),
                        )
                    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._mqtt_url_from_broker(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._mqtt_url_from_broker(vals)
        return super().write(vals)

    def _mqtt_url_from_broker(self, vals):
        """An MQTT endpoint's URL is its broker's address (shown in lists, checked like any URL)."""
        if not vals.get("mqtt_broker_id"):
            return
        transports = {vals["transport"]} if "transport" in vals else set(self.mapped("transport"))
        if transports == {"mqtt"}:
            vals["url"] = self.env["mfg.integration.mqtt.broker"].browse(vals["mqtt_broker_id"])._url()

    @api.onchange("mqtt_broker_id", "transport")
    def _onchange_mqtt_broker(self):
        if self.transport == "mqtt" and self.mqtt_broker_id:
            self.url = self.mqtt_broker_id._url()

    def _dispatch_policy(self):
        policy = super()._dispatch_policy()
        if self.transport == "mqtt":
            policy.settings["broker"] = self.mqtt_broker_id._broker_settings()
            # What the topics of every message of the batch share (see mfg.integration.message._add_routes).
            policy.settings["topic_template"] = self.mqtt_topic_template
            policy.settings["state_topic_template"] = self.mqtt_state_topic_template
            policy.settings["topic_values"] = {
                "enterprise": self.mqtt_enterprise or self.company_id.name,
                "system": self.system_id.code,
            }
        return policy
