from odoo import fields, models


class MfgQualityLotHold(models.Model):
    """One quality hold of a lot: placed, then released; the lot's history of holds."""

    _name = "mfg.quality.lot.hold"
    _description = "Lot Quality Hold"
    _order = "placed_at desc, id desc"
    _rec_name = "reason"

    lot_id = fields.Many2one("stock.lot", required=True, ondelete="cascade", index=True, readonly=True)
    product_id = fields.Many2one(related="lot_id.product_id", store=True)
    company_id = fields.Many2one(related="lot_id.company_id", store=True)
    state = fields.Selection(
        [("active", "On Hold"), ("released", "Released")], required=True, default="active", index=True, readonly=True
    )
    reason = fields.Char(required=True, readonly=True)
    origin = fields.Selection(
        [("manual", "By hand"), ("system", "External system"), ("inspection", "Failed inspection")],
        required=True,
        default="manual",
        readonly=True,
    )
    system_id = fields.Many2one("mfg.integration.system", string="Requested By System", readonly=True)
    inspection_id = fields.Many2one("qc.inspection", readonly=True, ondelete="set null")
    placed_at = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    placed_by_id = fields.Many2one("res.users", default=lambda self: self.env.user, readonly=True)
    released_at = fields.Datetime(readonly=True)
    released_by_id = fields.Many2one("res.users", readonly=True)
    release_reason = fields.Char(readonly=True)
    release_system_id = fields.Many2one("mfg.integration.system", string="Released By System", readonly=True)
