from collections import defaultdict

from odoo import api, models


class MfgIntegrationMessage(models.Model):
    _inherit = "mfg.integration.message"

    @api.model
    def _add_routes(self, deliveries):
        """MQTT: the topics are rendered at claim time from the records (plant, area), so that the
        transport's network call needs no database. A claimed batch costs a few queries, whatever its size."""
        super()._add_routes(deliveries)
        mqtt = [delivery for delivery in deliveries if delivery.endpoint.transport == "mqtt"]
        if not mqtt:
            return
        messages = self.browse([delivery.message_id for delivery in mqtt])
        messages.fetch(["endpoint_id", "event_type_id", "subject", "res_model", "res_id"])
        levels = messages._mqtt_levels()
        for delivery, message in zip(mqtt, messages, strict=True):
            plant, area = levels.get((message.res_model, message.res_id), (None, None))
            topic, state_topic = message.endpoint_id._mqtt_topics(message, plant, area)
            delivery.route = {"topic": topic, "state_topic": state_topic}

    def _mqtt_levels(self):
        """{(model, id): (plant, area)} of the records the messages of ``self`` are about, read together:
        queries per model, not per message. A record deleted since its event has none (its levels say 'none')."""
        ids_by_model = defaultdict(set)
        for message in self:
            if message.res_model and message.res_id and message.res_model in self.env:
                ids_by_model[message.res_model].add(message.res_id)
        levels = {}
        for model, ids in ids_by_model.items():
            # sudo: the dispatcher reads the records' plant and work center only to name the topics.
            for record in self.env[model].sudo().browse(sorted(ids)).exists():
                warehouse = record._mfg_warehouse() if hasattr(record, "_mfg_warehouse") else None
                levels[model, record.id] = (warehouse._mfg_plant_code() if warehouse else None, _area(record))
        return levels


def _area(record):
    """The ISA-95 area of a record: its work center (a work order's, a production's first operation's),
    else its operation type's code (receipts, deliveries, internal transfers)."""
    if "workcenter_id" in record._fields and record.workcenter_id:
        return record.workcenter_id.code or record.workcenter_id.name
    if "workorder_ids" in record._fields and record.workorder_ids:
        workcenter = record.workorder_ids[:1].workcenter_id
        return workcenter.code or workcenter.name
    if "picking_type_id" in record._fields and record.picking_type_id:
        return record.picking_type_id.sequence_code
    return None
