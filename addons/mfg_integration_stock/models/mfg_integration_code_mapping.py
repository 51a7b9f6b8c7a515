from odoo import api, models

from odoo.addons.mfg_integration.exceptions import MfgBusinessError


class MfgIntegrationCodeMapping(models.Model):
    _inherit = "mfg.integration.code.mapping"

    @api.model
    def _fallback_product(self, system, code):
        """Internal reference first, then barcode (after the system's own mapping)."""
        Product = self.env["product.product"].with_company(system.company_id)
        return Product.search([("default_code", "=", code)], limit=1) or Product.search(
            [("barcode", "=", code)], limit=1
        )

    @api.model
    def _fallback_uom(self, system, code):
        return self.env["uom.uom"].search([("name", "=ilike", code)], limit=1)

    @api.model
    def _fallback_location(self, system, code):
        Location = self.env["stock.location"].with_company(system.company_id)
        company = [("company_id", "in", (False, system.company_id.id))]
        return Location.search([("barcode", "=", code), *company], limit=1) or Location.search(
            [("complete_name", "=", code), *company], limit=1
        )

    @api.model
    def _resolve_lot(self, system, product, lot_name, path):
        """The product's lot named ``lot_name``; created only when the system may create lots."""
        Lot = self.env["stock.lot"]
        lot = Lot.search(
            [
                ("product_id", "=", product.id),
                ("name", "=", lot_name),
                ("company_id", "in", (False, system.company_id.id)),
            ],
            limit=1,
        )
        if lot:
            return lot
        if not system.allow_lot_creation:
            raise MfgBusinessError(
                self.env._(
                    "Lot %(lot)s of %(product)s does not exist (this system may not create lots).",
                    lot=lot_name,
                    product=product._mfg_code(),
                ),
                path=path,
            )
        return Lot.create({"name": lot_name, "product_id": product.id, "company_id": system.company_id.id})

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
