from odoo import models


class MfgIntegrationMessage(models.Model):
    _inherit = "mfg.integration.message"

    def _prepare_delivery(self, source, policy):
        """MQTT: the topics are rendered at claim time from the record (plant, area), so that the
        transport's network call needs no database."""
        delivery = super()._prepare_delivery(source, policy)
        if policy.transport == "mqtt":
            topic, state_topic = self.endpoint_id._mqtt_topics(self)
            delivery.route = {"topic": topic, "state_topic": state_topic}
        return delivery

    def _mqtt_record(self):
        """The record the message is about, None when it is gone (the topic then says 'none')."""
        self.ensure_one()
        if not self.res_model or not self.res_id or self.res_model not in self.env:
            return None
        # sudo: the dispatcher reads the record's plant and work center only to name the topic.
        record = self.env[self.res_model].sudo().browse(self.res_id).exists()
        return record or None
