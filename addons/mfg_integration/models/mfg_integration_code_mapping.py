from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

from ..exceptions import MfgBusinessError, MfgUnknownCode


class MfgIntegrationCodeMapping(models.Model):
    """Per external system: its code for an Odoo record, used both ways (inbound events are
    read in the system's codes, outbound events are written in them).

    The kinds of code and their models come from the domain addons: each adds its kinds
    with ``selection_add`` on ``kind``, their models in ``_kind_models`` and, per kind, the
    lookup of Odoo's own code ``_find_<kind>(system, code)`` (mfg_integration_stock's kit)."""

    _name = "mfg.integration.code.mapping"
    # emit() caches which kinds each system maps: any change clears that cache.
    _inherit = ["mfg.integration.routing.mixin", "mfg.integration.company.mixin"]
    _description = "Integration Code Mapping"
    _order = "system_id, kind, external_code"
    _rec_name = "external_code"

    system_id = fields.Many2one("mfg.integration.system", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="system_id.company_id", store=True, index=True)
    kind = fields.Selection([], required=True)
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
    def _kind_models(self):
        """{kind: Odoo model}; each domain addon adds its kinds."""
        return {}

    @api.model
    def _selection_target_ref(self):
        models_ = self.env["ir.model"].sudo().search([("model", "in", list(self._kind_models().values()))])
        return [(model.model, model.name) for model in models_]

    @api.constrains("kind", "target_ref", "system_id")
    def _check_target_model(self):
        for mapping in self:
            expected = self._kind_models().get(mapping.kind)
            target = mapping.target_ref
            if target and target._name != expected:
                raise ValidationError(
                    self.env._("A %(kind)s code must map to a %(model)s record.", kind=mapping.kind, model=expected)
                )
            # sudo: reading the target's company only, to keep a system's codes inside its company.
            company = target.sudo().company_id if target and "company_id" in target._fields else None
            if company and company != mapping.system_id.company_id:
                raise ValidationError(
                    self.env._(
                        "Code %(code)s of system %(system)s maps to a record of another company.",
                        code=mapping.external_code,
                        system=mapping.system_id.display_name,
                    )
                )

    @api.model
    def resolve(self, system, kind, code, path=None):
        """The Odoo record ``code`` stands for at ``system``, in the system's company.

        Tries the system's mapping first, then Odoo's own code (``_find_<kind>``, e.g.
        internal reference then barcode for products). Raises MfgUnknownCode naming the
        code and its kind, also when the code only exists in another company.
        """
        if not code:
            raise MfgUnknownCode(kind, code, path=path)
        # sudo: mappings are integration configuration, read here only for the sending
        # system; the record found is handed back in the caller's environment.
        mapping = self.sudo().search(
            [("system_id", "=", system.id), ("kind", "=", kind), ("external_code", "=", code)], limit=1
        )
        record = mapping.target_ref.with_env(self.env) if mapping else self._find(system, kind, code)
        if not record:
            raise MfgUnknownCode(kind, code, path=path)
        return record

    @api.model
    def _find(self, system, kind, code):
        """The record of ``system``'s company that Odoo's own code ``code`` names (exactly), or an
        empty recordset (``None`` for a kind without a lookup)."""
        find = getattr(self, f"_find_{kind}", None)
        return find(system, code) if find else None

    # -- outbound: the system's codes for Odoo's ------------------------------

    @api.model
    @tools.ormcache("system_id")
    def _mapped_kinds(self, system_id):
        """Kinds of code ``system_id`` has mappings for (cached: emit() asks for every system)."""
        self.env.cr.execute("SELECT DISTINCT kind FROM mfg_integration_code_mapping WHERE system_id = %s", (system_id,))
        return frozenset(kind for (kind,) in self.env.cr.fetchall())

    @api.model
    def _external_codes(self, system, kind, odoo_codes):
        """{Odoo code: system's code} for those of ``odoo_codes`` (of ``kind``) the system maps.

        The same lookup as inbound, the other way round: Odoo's code names a record of the
        system's company, the system's mapping of that record gives its code (the first by
        code when the system has several codes for one record)."""
        # sudo: emit() runs as any business user; mappings and the records they target are
        # read only to write the payload for this system.
        Mapping = self.sudo()
        targets = {}
        for code in odoo_codes:
            record = Mapping._find(system, kind, code)
            if record:
                targets[f"{record._name},{record.id}"] = code
        if not targets:
            return {}
        external = {}
        mappings = Mapping.search(
            [("system_id", "=", system.id), ("kind", "=", kind), ("target_ref", "in", list(targets))]
        )
        for mapping in mappings:
            external.setdefault(targets[f"{mapping.target_ref._name},{mapping.target_ref.id}"], mapping.external_code)
        return external

    # -- inbound: mfg.integration.code_mapping.reported.v1 --------------------

    @api.model
    def _mfg_handle_code_mapping_reported(self, message, data):
        """Handler of mfg.integration.code_mapping.reported.v1: create or update the
        sending system's mapping of ``external_code`` to the record ``odoo_code`` names."""
        system = message.system_id
        kind = data["kind"]
        if kind not in self._kind_models():
            raise MfgBusinessError(self.env._("Unknown kind of code %(kind)r.", kind=kind), path="/kind")
        target = self._find(system, kind, data["odoo_code"])
        if not target:
            raise MfgBusinessError(
                self.env._(
                    "No %(kind)s of company %(company)s has Odoo code %(code)r.",
                    kind=kind,
                    company=system.company_id.name,
                    code=data["odoo_code"],
                ),
                path="/odoo_code",
            )
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
