import hashlib
import json
import re

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, ValidationError

from ..lib import schema as schema_lib

SCHEMA_PATH = "/api/mfg/v1/schemas"
EVENT_TYPE_CODE = re.compile(r"^mfg\.[a-z0-9_]+(\.[a-z0-9_]+)+\.v(\d+)$")
# Only methods named for the purpose can apply inbound events: a handler runs with the
# technical user's rights on data an external system chose, so wiring an arbitrary
# method (res.users._check_credentials, unlink, ...) must be impossible.
HANDLER_METHOD = re.compile(r"^_mfg_handle_[a-z0-9_]+$")
ORDER_KEY_NAME_MAX = 200
# They decide which code runs (and which model is searched with sudo for the subject).
HANDLER_FIELDS = ("handler_model", "handler_method", "subject_model", "subject_key")


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
        help="Inbound types: method called as handler(message, data) -> result dict; "
        "its name must start with _mfg_handle_.",
    )
    subject_model = fields.Char(
        help="Inbound types: model of the record the event is about (e.g. mrp.production), "
        "so that its messages show on that record.",
    )
    subject_key = fields.Char(
        help="Inbound types: member of the event's data holding that record's name (e.g. production_order).",
    )
    required_group_ids = fields.Many2many(
        "res.groups",
        string="Required Groups",
        help="Inbound types: groups the sending system's technical user needs to apply the event "
        "(the system form's Technical User button gives exactly these). Set by Settings administrators.",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_unique", "unique(code)", "An event type code must be unique."),
    ]

    @api.constrains("required_group_ids")
    def _check_required_groups_author(self):
        # The Technical User button grants these groups with sudo: only a Settings administrator
        # (or module data) may choose them, or an Integration Manager could grant himself any right.
        if not self.env.is_system():
            raise AccessError(self.env._("Only Settings administrators can change the groups an event type requires."))

    @api.model
    def _mfg_add_required_groups(self, codes, group_xmlids):
        """Module data: add the groups that exist to the types that exist (for rights that another,
        optional module brings in, e.g. quality inspections created when an order is closed)."""
        groups = self.env["res.groups"].browse(
            group.id for xmlid in group_xmlids if (group := self.env.ref(xmlid, raise_if_not_found=False))
        )
        self.search([("code", "in", codes)]).write({"required_group_ids": [(4, group.id) for group in groups]})

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
                        "Event type code %(code)s must look like mfg.<entity>.<event>.v<major>.",
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

    @api.model_create_multi
    def create(self, vals_list):
        self._check_handler_rights([key for vals in vals_list for key in vals])
        return super().create(vals_list)

    def write(self, vals):
        self._check_handler_rights(vals)
        return super().write(vals)

    def _check_handler_rights(self, field_names):
        if self.env.su or self.env.user._is_system() or not set(field_names) & set(HANDLER_FIELDS):
            return
        raise AccessError(self.env._("Only Settings administrators may set the handler of an event type."))

    @api.constrains("direction", "handler_model", "handler_method")
    def _check_handler(self):
        for event_type in self:
            if not (event_type.handler_model or event_type.handler_method):
                continue
            if event_type.direction != "inbound":
                raise ValidationError(
                    self.env._("Only inbound event types have a handler (%(code)s).", code=event_type.code)
                )
            if not event_type._handler_is_valid():
                raise ValidationError(
                    self.env._(
                        "Handler %(model)s.%(method)s of %(code)s must be an existing method named "
                        "_mfg_handle_<what> on an existing model.",
                        model=event_type.handler_model,
                        method=event_type.handler_method,
                        code=event_type.code,
                    )
                )

    def _handler_is_valid(self):
        """The naming rule and existence of the handler (checked again before each call)."""
        self.ensure_one()
        method = self.handler_method or ""
        model = self.env.get(self.handler_model or "")
        return bool(HANDLER_METHOD.match(method)) and model is not None and callable(getattr(model, method, None))

    def parsed_schema(self):
        """The type's schema as published and enforced: for outbound types, each code member
        (``"x-mfg-code": "<kind>"``) has its optional ``<name>_odoo_code`` sibling added."""
        self.ensure_one()
        return self._parsed_schema(self.json_schema, self.direction == "outbound")

    @api.model
    @tools.ormcache("schema_text", "outbound")
    def _parsed_schema(self, schema_text, outbound):
        schema = json.loads(schema_text)
        return schema_lib.with_odoo_codes(schema) if outbound else schema

    @api.model
    @tools.ormcache("schema_text")
    def _code_paths(self, schema_text):
        return schema_lib.code_paths(json.loads(schema_text))

    def _data_for_system(self, data, system):
        """``data`` (built with Odoo's codes) in the codes of ``system``: each code member the
        system has a mapping for holds the system's code, with Odoo's code beside it as
        ``<name>_odoo_code``; other members keep Odoo's code. Returns ``data`` itself (no copy)
        when there is nothing to translate, which is the cheap path of emit()."""
        self.ensure_one()
        paths = self._code_paths(self.json_schema)
        if not paths:
            return data
        Mapping = self.env["mfg.integration.code.mapping"]
        mapped_kinds = Mapping._mapped_kinds(system.id)
        paths = tuple((path, kind) for path, kind in paths if kind in mapped_kinds)
        if not paths:
            return data
        external = {
            kind: Mapping._external_codes(system, kind, codes)
            for kind, codes in schema_lib.codes_by_kind(data, paths).items()
        }
        if not any(external.values()):
            return data
        return schema_lib.translate_codes(data, paths, external)

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
        validator = self._validator(self.json_schema, self.direction == "outbound")
        return schema_lib.validator_errors(validator, data, prefix)

    def ensure_valid(self, data, prefix=""):
        """Raise SchemaViolation when ``data`` does not match the schema."""
        errors = self.schema_errors(data, prefix)
        if errors:
            raise schema_lib.SchemaViolation(errors)

    @api.model
    @tools.ormcache("schema_text", "outbound")
    def _validator(self, schema_text, outbound):
        # Compiled once per schema: emit() validates in every business transaction.
        return schema_lib.compile_validator(self._parsed_schema(schema_text, outbound))

    def _order_key(self, data):
        """What inbound events of this type are about, for applying them in order
        (e.g. ``mrp.production:WH/MO/00012``), or False when the type names no subject."""
        self.ensure_one()
        name = data.get(self.subject_key) if isinstance(data, dict) and self.subject_key else None
        if not self.subject_model or not isinstance(name, str) or not name:
            return False
        if len(name) > ORDER_KEY_NAME_MAX:  # indexed: a long name is kept as its digest
            name = "sha256:" + hashlib.sha256(name.encode()).hexdigest()
        return f"{self.subject_model}:{name}"

    def dataschema_uri(self):
        """Absolute URL of the schema (served without a key), the CloudEvents ``dataschema`` attribute."""
        self.ensure_one()
        # sudo: web.base.url is public configuration (Odoo puts it in every page).
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "").rstrip("/")
        return f"{base_url}{SCHEMA_PATH}/{self.code}.json"
