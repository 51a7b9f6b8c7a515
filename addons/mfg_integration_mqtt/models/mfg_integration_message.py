from collections import defaultdict

from odoo import api, models
from odoo.exceptions import MissingError
from odoo.tools import SQL

from ..lib import topics

# Fields of a record that name its ISA-95 area (see _area).
AREA_FIELDS = ("workcenter_id", "workorder_ids", "picking_type_id")


class MfgIntegrationMessage(models.Model):
    _inherit = "mfg.integration.message"

    @api.model
    def _add_routes(self, deliveries):
        """MQTT: the topics are rendered at claim time from the records (plant, area), so that the
        transport's network call needs no database. A claimed batch costs one query, and one per model
        of record with ISA-95 levels, whatever its size: this runs on the dispatcher's hot path."""
        super()._add_routes(deliveries)
        mqtt = [delivery for delivery in deliveries if delivery.endpoint.transport == "mqtt"]
        if not mqtt:
            return
        self.env.cr.execute(
            SQL(
                """
                SELECT m.id, m.res_model, m.res_id, m.subject, t.code
                  FROM mfg_integration_message m
                  JOIN mfg_integration_event_type t ON t.id = m.event_type_id
                 WHERE m.id = ANY(%s)
                """,
                [delivery.message_id for delivery in mqtt],
            )
        )
        facts = {message_id: rest for message_id, *rest in self.env.cr.fetchall()}
        levels = self._mqtt_levels({(res_model, res_id) for res_model, res_id, *_rest in facts.values()})
        for delivery in mqtt:
            res_model, res_id, subject, event_type = facts[delivery.message_id]
            plant, area = levels.get((res_model, res_id), (None, None))
            settings = delivery.endpoint.settings
            values = dict(settings["topic_values"], plant=plant, area=area, type=event_type, subject=subject)
            state_template = settings["state_topic_template"]
            delivery.route = {
                "topic": topics.render(settings["topic_template"], values),
                "state_topic": topics.render(state_template, values) if state_template else None,
            }

    @api.model
    def _mqtt_levels(self, references):
        """{(model, id): (plant, area)} of the records of ``references`` ({(model, id)}), read together:
        queries per model, not per message. A record deleted since its event, or of a model without
        levels, has none (its levels say 'none')."""
        ids_by_model = defaultdict(set)
        for res_model, res_id in references:
            Model = self.env.get(res_model)
            if (
                res_id
                and Model is not None
                and (hasattr(Model, "_mfg_warehouse") or any(name in Model._fields for name in AREA_FIELDS))
            ):
                ids_by_model[res_model].add(res_id)
        levels = {}
        for res_model, ids in ids_by_model.items():
            # sudo: the dispatcher reads the records' plant and work center only to name the topics.
            for record in self.env[res_model].sudo().browse(sorted(ids)).exists():
                try:
                    warehouse = record._mfg_warehouse() if hasattr(record, "_mfg_warehouse") else None
                    levels[res_model, record.id] = (warehouse._mfg_plant_code() if warehouse else None, _area(record))
                except MissingError:  # deleted meanwhile, after exists()
                    continue
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
