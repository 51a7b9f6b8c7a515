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

        The system's lot mapping wins, then the lot's name; an unknown lot is created
        only when the system is allowed to create lots.
        """
        if product.tracking == "none":
            return self.browse()
        if not code:
            raise MfgBusinessError(
                self.env._("%(material)s is tracked: the report must name its lot.", material=product._mfg_code()),
                path=path,
            )
        Mapping = self.env["mfg.integration.code.mapping"]
        # sudo: mappings are integration configuration, read only for the sending system;
        # the lot found is handed back in the caller's environment.
        mapping = Mapping.sudo().search(
            [("system_id", "=", system.id), ("kind", "=", "lot"), ("external_code", "=", code)], limit=1
        )
        if mapping and mapping.target_ref.product_id == product:
            return mapping.target_ref.with_env(self.env)
        return Mapping._resolve_lot(system, product, code, path)
