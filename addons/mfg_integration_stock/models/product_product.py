from odoo import models


class ProductProduct(models.Model):
    _inherit = "product.product"

    def _mfg_code(self):
        """The code external systems know the product by: internal reference, else barcode, else name."""
        self.ensure_one()
        return self.default_code or self.barcode or self.name
