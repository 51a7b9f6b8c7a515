from odoo import api, fields, models
from odoo.tools.sql import escape_psql

from odoo.addons.mfg_integration.exceptions import MfgBusinessError


class MfgIntegrationCodeMapping(models.Model):
    """The domain kit every inventory, manufacturing, purchase and quality handler uses:
    one code lookup (``_find_code``: exact, in the system's company), one lot resolver
    (``_resolve_lot``) and one quantity resolver; the result builder is ``lib.results``."""

    _inherit = "mfg.integration.code.mapping"

    kind = fields.Selection(
        selection_add=[
            ("product", "Product"),
            ("uom", "Unit of Measure"),
            ("location", "Location"),
            ("scrap_reason", "Scrap Reason"),
            ("lot", "Lot / Serial Number"),
        ],
        ondelete={
            "product": "cascade",
            "uom": "cascade",
            "location": "cascade",
            "scrap_reason": "cascade",
            "lot": "cascade",
        },
    )

    @api.model
    def _kind_models(self):
        return dict(
            super()._kind_models(),
            product="product.product",
            uom="uom.uom",
            location="stock.location",
            scrap_reason="stock.scrap.reason.tag",
            lot="stock.lot",
        )

    # -- the code lookup -----------------------------------------------------

    @api.model
    def _find_code(self, model_name, system, field_names, code, ignore_case=False):
        """The record of ``model_name`` whose first field of ``field_names`` holding a value
        equals ``code``, among the records of ``system``'s company (and shared ones).

        Exact: ``%`` and ``_`` are plain characters; ``ignore_case`` compares without case
        (unit and reason names, which people type). Empty recordset when none matches."""
        Model = self.env[model_name]
        company = [("company_id", "in", (False, system.company_id.id))] if "company_id" in Model._fields else []
        for field_name in field_names:
            condition = (field_name, "=ilike", escape_psql(code)) if ignore_case else (field_name, "=", code)
            record = Model.search([condition, *company], limit=1)
            if record:
                return record
        return Model

    @api.model
    def _find_product(self, system, code):
        """Internal reference first, then barcode."""
        return self._find_code("product.product", system, ("default_code", "barcode"), code)

    @api.model
    def _find_uom(self, system, code):
        return self._find_code("uom.uom", system, ("name",), code, ignore_case=True)

    @api.model
    def _find_location(self, system, code):
        return self._find_code("stock.location", system, ("barcode", "complete_name"), code)

    @api.model
    def _find_scrap_reason(self, system, code):
        return self._find_code("stock.scrap.reason.tag", system, ("name",), code, ignore_case=True)

    @api.model
    def _find_lot(self, system, code):
        """A lot named ``code`` (lot names are unique per product only: outbound lot codes map by name)."""
        return self._find_code("stock.lot", system, ("name",), code)

    # -- the lot resolver ----------------------------------------------------

    @api.model
    def _resolve_lot(self, system, product, code, path, create=None, new_lot_values=None):
        """The lot of ``product`` a report names ``code``: the system's lot mapping for this
        product wins, then the lot's own name in the system's company. An unknown lot is
        created (with ``new_lot_values``) when ``create`` says so (default: when the system
        may create lots)."""
        # sudo: mappings are integration configuration, read only for the sending system;
        # the lot found is handed back in the caller's environment.
        mapping = (
            self.sudo()
            .search([("system_id", "=", system.id), ("kind", "=", "lot"), ("external_code", "=", code)])
            .filtered(lambda mapping: mapping.target_ref.product_id == product)[:1]
        )
        if mapping:
            return mapping.target_ref.with_env(self.env)
        Lot = self.env["stock.lot"]
        lot = Lot.search(
            [
                ("product_id", "=", product.id),
                ("name", "=", code),
                ("company_id", "in", (False, system.company_id.id)),
            ],
            limit=1,
        )
        if lot:
            return lot
        if not (system.allow_lot_creation if create is None else create):
            raise MfgBusinessError(
                self.env._(
                    "Lot %(lot)s of %(product)s does not exist (this system may not create lots).",
                    lot=code,
                    product=product._mfg_code(),
                ),
                path=path,
            )
        return Lot.create(dict(new_lot_values or {}, name=code, product_id=product.id, company_id=system.company_id.id))

    @api.model
    def _resolve_quantity(self, system, quantity, uom_code, target_uom, path):
        """``quantity`` in the reported unit (a mapped code, default ``target_uom``) converted to ``target_uom``."""
        if not uom_code:
            return quantity
        uom = self.resolve(system, "uom", uom_code, path=path)
        if uom.category_id != target_uom.category_id:
            raise MfgBusinessError(
                self.env._("Unit %(uom)s cannot be converted to %(target)s.", uom=uom_code, target=target_uom.name),
                path=path,
            )
        return uom._compute_quantity(quantity, target_uom)
