from odoo import api, models

from odoo.addons.mfg_integration.exceptions import MfgBusinessError
from odoo.addons.mfg_integration.lib.timeconv import to_rfc3339

LOT_CREATED = "mfg.material_lot.created.v1"


class StockLot(models.Model):
    _inherit = "stock.lot"

    def _mfg_warehouse(self):
        # A new lot has no stock yet: it is news for every plant's systems.
        return None

    @api.model_create_multi
    def create(self, vals_list):
        lots = super().create(vals_list)
        Message = self.env["mfg.integration.message"]
        for lot in lots:
            Message.emit(LOT_CREATED, lot, lot._mfg_created_data, subject=lot.name)
        return lots

    def _mfg_created_data(self):
        self.ensure_one()
        return {
            "lot": self.name,
            "material": self.product_id._mfg_code(),
            "tracking": self.product_id.tracking,
            "reference": self.ref or None,
            "created_at": to_rfc3339(self.create_date),
        }

    @api.model
    def _mfg_reported(self, system, product, code, path):
        """The lot a report names for ``product``: none for untracked products, required otherwise.

        See the kit's lot resolver (mfg.integration.code.mapping._resolve_lot).
        """
        if product.tracking == "none":
            return self.browse()
        if not code:
            raise MfgBusinessError(
                self.env._("%(material)s is tracked: the report must name its lot.", material=product._mfg_code()),
                path=path,
            )
        return self.env["mfg.integration.code.mapping"]._resolve_lot(system, product, code, path)
