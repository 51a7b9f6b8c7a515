from odoo import api, models


class MfgIntegrationMessage(models.Model):
    _inherit = "mfg.integration.message"

    @api.model
    def _add_routes(self, deliveries):
        """MQTT: the topics are rendered at claim time from the record (plant, area), so that the
        transport's network call needs no database."""
        super()._add_routes(deliveries)
        mqtt = [delivery for delivery in deliveries if delivery.endpoint.transport == "mqtt"]
        for delivery, message in zip(mqtt, self.browse([delivery.message_id for delivery in mqtt]), strict=True):
            topic, state_topic = message.endpoint_id._mqtt_topics(message)
            delivery.route = {"topic": topic, "state_topic": state_topic}

    def _mqtt_record(self):
        """The record the message is about (None without one), prefetched with the records of the other
        messages of the claimed batch: naming the topics costs queries per batch, not per message."""
        self.ensure_one()
        if not self.res_model or not self.res_id or self.res_model not in self.env:
            return None
        batch = self.browse(self._prefetch_ids)
        same_model = [message.res_id for message in batch if message.res_model == self.res_model and message.res_id]
        # sudo: the dispatcher reads the record's plant and work center only to name the topic.
        return self.env[self.res_model].sudo().browse(self.res_id).with_prefetch(same_model)
