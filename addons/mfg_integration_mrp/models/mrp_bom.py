from odoo import api, models

BOM_CHANGED = "mfg.bom.changed.v1"


class MrpBom(models.Model):
    _inherit = "mrp.bom"

    # -- outbound master data: mfg.bom.changed.v1 (components and routing) --------------------

    @api.model_create_multi
    def create(self, vals_list):
        boms = super().create(vals_list)
        boms._mfg_emit_bom("created")
        return boms

    def write(self, vals):
        result = super().write(vals)
        self._mfg_emit_bom("changed")
        return result

    def _mfg_emit_bom(self, change, endpoints=None):
        Message = self.env["mfg.integration.message"]
        for bom in self:
            Message.emit(BOM_CHANGED, bom, lambda bom=bom: bom._mfg_bom_data(change), endpoints=endpoints)

    def _mfg_bom_data(self, change):
        """The bill of materials and its routing as the shop floor keeps them."""
        self.ensure_one()
        product = self.product_id or self.product_tmpl_id.product_variant_id
        return {
            "bom_id": self.id,
            "reference": self.code or None,
            "product": product._mfg_code(),
            "quantity": self.product_qty,
            "uom": self.product_uom_id.name,
            "type": self.type,
            "active": self.active,
            "components": [
                {"material": line.product_id._mfg_code(), "quantity": line.product_qty, "uom": line.product_uom_id.name}
                for line in self.bom_line_ids
            ],
            "operations": [
                {
                    "sequence": index,
                    "name": operation.name,
                    "work_center": operation.workcenter_id._mfg_code(),
                    "duration_minutes": operation.time_cycle_manual,
                }
                for index, operation in enumerate(self.operation_ids, start=1)
            ],
            "change": change,
        }
