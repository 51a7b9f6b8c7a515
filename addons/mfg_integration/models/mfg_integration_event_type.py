import json
import re

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

from ..lib import schema as schema_lib

EVENT_TYPE_CODE = re.compile(r"^mfg\.[a-z0-9_]+(\.[a-z0-9_]+)+\.v(\d+)$")


class MfgIntegrationEventType(models.Model):
    """Catalog entry: one business event type with its JSON Schema."""

    _name = "mfg.integration.event.type"
    _inherit = ["mfg.integration.routing.mixin"]
    _description = "Integration Event Type"
    _order = "code"
    _rec_name = "code"

    code = fields.Char(
        required=True,
        index=True,
        help="mfg.<entity>.<event>.v<major>, e.g. mfg.production_order.released.v1",
    )
    name = fields.Char(required=True, translate=True)
    version = fields.Integer(compute="_compute_version", store=True)
    direction = fields.Selection(
        [("outbound", "Outbound (Odoo to external)"), ("inbound", "Inbound (external to Odoo)")],
        required=True,
    )
    description = fields.Text(translate=True)
    json_schema = fields.Text(
        string="JSON Schema",
        required=True,
        help="JSON Schema (draft 2020-12) of the event's data.",
    )
    handler_model = fields.Char(
        help="Inbound types: model whose handler method applies the event.",
    )
    handler_method = fields.Char(
        help="Inbound types: method called as handler(message, data) -> result dict.",
    )
    subject_model = fields.Char(
        help="Inbound types: model of the record the event is about (e.g. mrp.production), "
        "so that its messages show on that record.",
    )
    subject_key = fields.Char(
        help="Inbound types: member of the event's data holding that record's name (e.g. production_order).",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_unique", "unique(code)", "An event type code must be unique."),
    ]

    @api.depends("code")
    def _compute_version(self):
        for event_type in self:
            match = EVENT_TYPE_CODE.match(event_type.code or "")
            event_type.version = int(match.group(2)) if match else 0

    @api.constrains("code")
    def _check_code(self):
        for event_type in self:
            if not EVENT_TYPE_CODE.match(event_type.code):
                raise ValidationError(
                    self.env._(
                        "Event type code %(code)s must look like "
                        "mfg.<entity>.<event>.v<major>.",
                        code=event_type.code,
                    )
                )

    @api.constrains("json_schema")
    def _check_json_schema(self):
        for event_type in self:
            try:
                schema_lib.check_schema(json.loads(event_type.json_schema))
            except (ValueError, schema_lib.SchemaViolation) as error:
                raise ValidationError(
                    self.env._("Invalid JSON Schema for %(code)s: %(error)s", code=event_type.code, error=error)
                ) from error

    @api.constrains("direction", "handler_model", "handler_method")
    def _check_handler(self):
        for event_type in self.filtered("handler_model"):
            model = self.env.get(event_type.handler_model)
            if model is None or not hasattr(model, event_type.handler_method or ""):
                raise ValidationError(
                    self.env._(
                        "Handler %(model)s.%(method)s of %(code)s does not exist.",
                        model=event_type.handler_model,
                        method=event_type.handler_method,
                        code=event_type.code,
                    )
                )

    def parsed_schema(self):
        self.ensure_one()
        return self._parsed_schema(self.json_schema)

    @api.model
    @tools.ormcache("schema_text")
    def _parsed_schema(self, schema_text):
        return json.loads(schema_text)

    @api.model
    def _get_by_code(self, code, direction=None):
        """Active event type by code, or an empty recordset."""
        return self.browse(self._id_by_code(code, direction or ""))

    @api.model
    @tools.ormcache("code", "direction")
    def _id_by_code(self, code, direction):
        # Cached: emit() looks the type up in every business transaction; any change
        # to the catalog clears the cache.
        domain = [("code", "=", code)] + ([("direction", "=", direction)] if direction else [])
        return self.sudo().search(domain, limit=1).ids

    def schema_errors(self, data, prefix=""):
        """Every way ``data`` fails this type's schema, as [{path, message}]."""
        self.ensure_one()
        errors = schema_lib.schema_errors(self.parsed_schema(), data)
        return [{"path": prefix + error["path"], "message": error["message"]} for error in errors]

    def ensure_valid(self, data, prefix=""):
        """Raise SchemaViolation when ``data`` does not match the schema."""
        self.ensure_one()
        schema_lib.ensure_valid(self.parsed_schema(), data, prefix=prefix)

    def dataschema_uri(self):
        """URI of the schema, as used in the CloudEvents ``dataschema`` attribute."""
        self.ensure_one()
        return f"/api/mfg/v1/schemas/{self.code}.json"

    def _data_for_system(self, data, system):
        """``data`` in ``system``'s codes. Identity stub: branch ``codes`` provides the mapping."""
        self.ensure_one()
        return data
