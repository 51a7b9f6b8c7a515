from odoo import api, fields, models
from odoo.tools import float_compare

from odoo.addons.mfg_integration.lib.timeconv import to_rfc3339

from .purchase_order import CONFIRMED_STATES, EVENT_CHANGED

# A change of these after confirmation is sent to the supplier as .changed.v1.
CHANGE_FIELDS = ("product_qty", "product_uom", "price_unit", "date_planned", "product_id")


class PurchaseOrderLine(models.Model):
    _inherit = "purchase.order.line"

    mfg_promised_qty = fields.Float(
        string="Promised Quantity",
        digits="Product Unit of Measure",
        copy=False,
        readonly=True,
        help="Quantity the supplier's system acknowledged, in the line's unit.",
    )
    mfg_promised_date = fields.Datetime(string="Promised Date", copy=False, readonly=True)
    mfg_promised_qty_differs = fields.Boolean(
        string="Promised Quantity Differs",
        compute="_compute_mfg_promised_qty_differs",
        store=True,
    )

    @api.depends("mfg_promised_qty", "product_qty", "order_id.mfg_ack_state")
    def _compute_mfg_promised_qty_differs(self):
        for line in self:
            line.mfg_promised_qty_differs = bool(
                line.order_id.mfg_ack_state in ("accepted", "changed")
                and line.mfg_promised_qty
                and float_compare(
                    line.mfg_promised_qty, line.product_qty, precision_rounding=line.product_uom.rounding or 0.01
                )
            )

    def _mfg_line_payload(self):
        self.ensure_one()
        order = self.order_id
        supplier_code = self.product_id._mfg_supplier_code(order.partner_id) if self.product_id else False
        our_code = self.product_id._mfg_code() if self.product_id else ""
        # The supplier's product code is already the system's code: Odoo's code goes beside it
        # (so that the system's code mappings leave it alone); else the mappings translate ours.
        material = {"material": supplier_code or our_code}
        if supplier_code:
            material["material_odoo_code"] = our_code
        return {
            "line": self.id,
            **material,
            "our_material": our_code,
            "description": self.name or "",
            "quantity": self.product_qty,
            "unit": self.product_uom.name,
            "price": self.price_unit,
            "requested_date": to_rfc3339(self.date_planned or order.date_planned),
        }

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        if not self.env.context.get("mfg_from_supplier"):
            lines.order_id.filtered(lambda order: order.state in CONFIRMED_STATES)._mfg_emit(EVENT_CHANGED)
        return lines

    def write(self, vals):
        if self.env.context.get("mfg_from_supplier") or not any(name in vals for name in CHANGE_FIELDS):
            return super().write(vals)
        tracked = self.filtered(lambda line: line.order_id.state in CONFIRMED_STATES and not line.display_type)
        before = {line.id: [line[name] for name in CHANGE_FIELDS] for line in tracked}
        result = super().write(vals)
        changed = tracked.filtered(lambda line: [line[name] for name in CHANGE_FIELDS] != before[line.id])
        changed.order_id._mfg_emit(EVENT_CHANGED)
        return result
