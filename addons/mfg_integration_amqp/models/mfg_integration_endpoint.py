from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib import binding


class MfgIntegrationEndpoint(models.Model):
    _inherit = "mfg.integration.endpoint"

    transport = fields.Selection(selection_add=[("amqp", "AMQP 0-9-1 (RabbitMQ)")], ondelete={"amqp": "cascade"})
    amqp_broker_id = fields.Many2one(
        "mfg.integration.amqp.broker", string="AMQP Broker", ondelete="restrict", index="btree_not_null"
    )
    amqp_exchange = fields.Char(
        string="Exchange",
        default="mfg.events",
        help="Topic exchange the events are published to (declared durable if missing).",
    )
    amqp_routing_key = fields.Char(
        string="Routing Key",
        default=binding.DEFAULT_ROUTING_KEY,
        help="Template; placeholders: " + ", ".join(f"{{{name}}}" for name in binding.PLACEHOLDERS) + ".",
    )
    amqp_binding = fields.Selection(
        [(binding.STRUCTURED, "Structured (JSON envelope)"), (binding.BINARY, "Binary (cloudEvents: properties)")],
        string="CloudEvents Mode",
        default=binding.STRUCTURED,
    )

    @api.constrains("transport", "amqp_broker_id", "amqp_exchange", "amqp_routing_key", "company_id")
    def _check_amqp(self):
        for endpoint in self.filtered(lambda e: e.transport == "amqp"):
            if not endpoint.amqp_broker_id or not endpoint.amqp_exchange:
                raise ValidationError(self.env._("An AMQP endpoint needs a broker and an exchange."))
            if endpoint.amqp_broker_id.company_id != endpoint.company_id:
                raise ValidationError(self.env._("The AMQP broker must belong to the endpoint's company."))
            error = binding.template_error(endpoint.amqp_routing_key)
            if error:
                raise ValidationError(self.env._("Routing key template: %(error)s", error=error))

    @api.onchange("transport", "amqp_broker_id")
    def _onchange_amqp_broker(self):
        if self.transport == "amqp" and self.amqp_broker_id:
            self.url = self.amqp_broker_id._url()

    @api.model_create_multi
    def create(self, vals_list):
        brokers = self.env["mfg.integration.amqp.broker"]
        for vals in vals_list:
            if vals.get("transport") == "amqp" and vals.get("amqp_broker_id"):
                vals["url"] = brokers.browse(vals["amqp_broker_id"])._url()
        return super().create(vals_list)

    def write(self, vals):
        result = super().write(vals)
        if {"transport", "amqp_broker_id"} & set(vals):
            for endpoint in self.filtered(lambda e: e.transport == "amqp" and e.amqp_broker_id):
                endpoint.url = endpoint.amqp_broker_id._url()
        return result

    def _dispatch_policy(self):
        policy = super()._dispatch_policy()
        if self.transport == "amqp":
            policy.settings["broker"] = self.amqp_broker_id._settings()
        return policy
