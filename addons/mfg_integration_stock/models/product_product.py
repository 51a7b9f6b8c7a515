from odoo import api, models

MATERIAL_CHANGED = "mfg.material.changed.v1"
# Variant fields external systems keep in their material master data (template ones: product.template).
MATERIAL_FIELDS = ("default_code", "barcode", "active")


class ProductProduct(models.Model):
    _inherit = "product.product"

    def _mfg_code(self):
        """The code external systems know the product by: internal reference, else barcode, else name."""
        self.ensure_one()
        return self.default_code or self.barcode or self.name

    # -- outbound master data: mfg.material.changed.v1 ------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        products = super().create(vals_list)
        products._mfg_emit_material("created")
        return products

    def write(self, vals):
        result = super().write(vals)
        if any(name in vals for name in MATERIAL_FIELDS):
            self._mfg_emit_material("changed")
        return result

    def _mfg_emit_material(self, change, endpoints=None):
        Message = self.env["mfg.integration.message"]
        for product in self:
            Message.emit(
                MATERIAL_CHANGED,
                product,
                lambda product=product: product._mfg_material_data(change),
                endpoints=endpoints,
            )

    def _mfg_material_data(self, change):
        """The material as external systems keep it: code, name, unit, tracking."""
        self.ensure_one()
        return {
            "material": self._mfg_code(),
            "name": self.name,
            "uom": self.uom_id.name,
            "tracking": self.tracking,
            "storable": self.is_storable,
            "barcode": self.barcode or None,
            "active": self.active,
            "change": change,
        }
