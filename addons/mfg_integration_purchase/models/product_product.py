from odoo import models


class ProductProduct(models.Model):
    _inherit = "product.product"

    def _mfg_supplier_code(self, partner):
        """The supplier's own code for this product (vendor pricelist line), or False."""
        self.ensure_one()
        partners = partner | partner.commercial_partner_id
        sellers = self.seller_ids.filtered(
            lambda seller: (
                seller.partner_id in partners
                and seller.product_code
                and (not seller.product_id or seller.product_id == self)
            )
        )
        # A line for this very variant wins over one for the whole template.
        return sellers.sorted(lambda seller: (not seller.product_id, seller.sequence, seller.id))[:1].product_code
