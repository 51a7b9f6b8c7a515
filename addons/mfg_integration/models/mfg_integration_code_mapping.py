from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..exceptions import MfgBusinessError, MfgUnknownCode

# Kind of code -> Odoo model it maps to; domain addons add theirs with selection_add
# on ``kind`` and an entry here through ``_kind_models``.
KIND_MODELS = {
    "product": "product.product",
    "uom": "uom.uom",
    "workcenter": "mrp.workcenter",
    "location": "stock.location",
    "reason": "mrp.workcenter.productivity.loss",
    "scrap_reason": "stock.scrap.reason.tag",
    "lot": "stock.lot",
}


# Fields that identify a record from Odoo's side, tried in this order.
ODOO_CODE_FIELDS = ("default_code", "barcode", "code", "name")


class MfgIntegrationCodeMapping(models.Model):
    """Per external system: its code for a product, unit, work center, location, reason or lot."""

    _name = "mfg.integration.code.mapping"
    _inherit = ["mfg.integration.company.mixin"]
    _description = "Integration Code Mapping"
    _order = "system_id, kind, external_code"
    _rec_name = "external_code"

    system_id = fields.Many2one("mfg.integration.system", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="system_id.company_id", store=True, index=True)
    kind = fields.Selection(
        [
            ("product", "Product"),
            ("uom", "Unit of Measure"),
            ("workcenter", "Work Center"),
            ("location", "Location"),
            ("reason", "Downtime Reason"),
            ("scrap_reason", "Scrap Reason"),
            ("lot", "Lot / Serial Number"),
        ],
        required=True,
    )
    external_code = fields.Char(required=True, index=True)
    target_ref = fields.Reference(selection="_selection_target_ref", string="Odoo Record", required=True)
    note = fields.Char()

    _sql_constraints = [
        (
            "code_unique",
            "unique(system_id, kind, external_code)",
            "An external code is mapped once per system and kind.",
        ),
    ]

    @api.model
    def _selection_target_ref(self):
        models_ = self.env["ir.model"].sudo().search([("model", "in", list(KIND_MODELS.values()))])
        return [(model.model, model.name) for model in models_]

    @api.constrains("kind", "target_ref")
    def _check_target_model(self):
        for mapping in self:
            expected = KIND_MODELS.get(mapping.kind)
            if mapping.target_ref and mapping.target_ref._name != expected:
                raise ValidationError(
                    self.env._("A %(kind)s code must map to a %(model)s record.", kind=mapping.kind, model=expected)
                )

    @api.model
    def resolve(self, system, kind, code, path=None):
        """The Odoo record ``code`` stands for at ``system``.

        Tries the system's mapping first, then the kind's fallback
        (``_fallback_<kind>``, e.g. internal reference then barcode for products).
        Raises MfgUnknownCode naming the code and its kind.
        """
        if not code:
            raise MfgUnknownCode(kind, code, path=path)
        # sudo: mappings are integration configuration, read here only for the sending
        # system; the record found is handed back in the caller's environment.
        mapping = self.sudo().search(
            [("system_id", "=", system.id), ("kind", "=", kind), ("external_code", "=", code)], limit=1
        )
        if mapping:
            return mapping.target_ref.with_env(self.env)
        fallback = getattr(self, f"_fallback_{kind}", None)
        record = fallback(system, code) if fallback else None
        if not record:
            raise MfgUnknownCode(kind, code, path=path)
        return record

    # -- inbound: mfg.integration.code_mapping.reported.v1 --------------------


    @api.model
    def _inbound_code_mapping_reported(self, message, data):
        """Handler of mfg.integration.code_mapping.reported.v1: create or update the
        sending system's mapping of ``external_code`` to the record ``odoo_code`` names."""
        system = message.system_id
        kind = data["kind"]
        if kind not in dict(self._fields["kind"].selection):
            raise MfgBusinessError(self.env._("Unknown kind of code %(kind)r.", kind=kind), path="/kind")
        target = self._inbound_lookup(kind, data["odoo_code"])
        mapping = self.search(
            [("system_id", "=", system.id), ("kind", "=", kind), ("external_code", "=", data["external_code"])],
            limit=1,
        )
        vals = {"target_ref": f"{target._name},{target.id}"}
        if "note" in data:
            vals["note"] = data["note"]
        if mapping:
            mapping.write(vals)
        else:
            mapping = self.create(dict(vals, system_id=system.id, kind=kind, external_code=data["external_code"]))
        return {"records": [{"model": mapping._name, "id": mapping.id, "name": mapping.display_name}]}

    @api.model
    def _inbound_lookup(self, kind, odoo_code):
        model_name = self._kind_model(kind)
        if model_name not in self.env:
            raise MfgBusinessError(
                self.env._("Codes of kind %(kind)s need the module of %(model)s.", kind=kind, model=model_name),
                path="/kind",
            )
        Model = self.env[model_name]
        for field_name in ODOO_CODE_FIELDS:
            if field_name not in Model._fields or not Model._fields[field_name].store:
                continue
            records = Model.search([(field_name, "=", odoo_code)], limit=2)
            if len(records) == 1:
                return records
            if len(records) > 1:
                raise MfgBusinessError(
                    self.env._("%(code)r matches several %(kind)s records.", code=odoo_code, kind=kind),
                    path="/odoo_code",
                )
        raise MfgBusinessError(
            self.env._(
                "No %(kind)s with internal reference, barcode, code or name %(code)r.", kind=kind, code=odoo_code
            ),
            path="/odoo_code",
        )

    @api.model
    def _kind_model(self, kind):
        kind_models = getattr(self, "_kind_models", None)
        mapping = kind_models() if callable(kind_models) else KIND_MODELS
        return mapping.get(kind)
