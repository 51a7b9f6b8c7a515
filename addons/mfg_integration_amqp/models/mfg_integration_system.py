from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib.consumer import AmqpConsumer


class MfgIntegrationSystem(models.Model):
    _inherit = "mfg.integration.system"

    amqp_broker_id = fields.Many2one(
        "mfg.integration.amqp.broker",
        string="Inbound AMQP Broker",
        ondelete="restrict",
        help="Consume this system's inbound events from a queue of this broker (manual acks after storage).",
    )
    amqp_queue = fields.Char(
        string="Inbound Queue",
        help="Queue to consume; declared (durable quorum queue, dead-lettering to '<queue>.dead') if missing.",
    )
    amqp_prefetch = fields.Integer(
        string="Prefetch", default=20, help="Messages the broker may hand over before they are acknowledged."
    )

    @api.constrains("amqp_broker_id", "amqp_queue", "amqp_prefetch", "company_id")
    def _check_amqp_inbound(self):
        self._check_inbound_broker_company("amqp_broker_id")
        for system in self.filtered("amqp_broker_id"):
            if not system.amqp_queue or not system.amqp_queue.strip():
                raise ValidationError(self.env._("An inbound AMQP broker needs a queue name."))
            if len(system.amqp_queue.encode()) > 200 or system.amqp_queue.startswith("amq."):
                raise ValidationError(self.env._("The queue name must be at most 200 bytes and not start with 'amq.'."))
            if not 1 <= system.amqp_prefetch <= 1000:
                raise ValidationError(self.env._("The prefetch must be between 1 and 1000."))

    def _mfg_broker_consumers(self):
        consumers = super()._mfg_broker_consumers()
        for system in self._systems_receiving_from("amqp_broker_id"):
            consumers.append(
                AmqpConsumer(system.id, system.amqp_broker_id._settings(), system.amqp_queue, system.amqp_prefetch)
            )
        return consumers
