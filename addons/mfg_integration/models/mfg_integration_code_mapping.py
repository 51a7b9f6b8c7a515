from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..exceptions import MfgUnknownCode

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


class MfgIntegrationCodeMapping(models.Model):
    """Per external system: its code for a product, unit, work center, location, reason or lot."""

    _name = "mfg.integration.code.mapping"
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
