from odoo import models

# Fields kept on the template that external systems keep in their material master data
# (the variant's own ones, code and barcode, are watched on product.product).
TEMPLATE_MATERIAL_FIELDS = ("name", "uom_id", "tracking", "is_storable")


class ProductTemplate(models.Model):
    _inherit = "product.template"

    def write(self, vals):
        result = super().write(vals)
        if any(name in vals for name in TEMPLATE_MATERIAL_FIELDS):
            self.product_variant_ids._mfg_emit_material("changed")
        return result
