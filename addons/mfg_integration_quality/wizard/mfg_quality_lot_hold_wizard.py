from odoo import fields, models


class MfgQualityLotHoldWizard(models.TransientModel):
    _name = "mfg.quality.lot.hold.wizard"
    _description = "Place or Release a Lot's Quality Hold"

    lot_id = fields.Many2one("stock.lot", required=True, readonly=True)
    action = fields.Selection([("place", "Place Hold"), ("release", "Release Hold")], required=True, readonly=True)
    reason = fields.Char(required=True)

    def action_apply(self):
        self.ensure_one()
        if self.action == "place":
            self.lot_id._mfg_place_hold(self.reason, origin="manual")
        else:
            self.lot_id._mfg_release_hold(self.reason)
        return {"type": "ir.actions.act_window_close"}
