from odoo import fields, models


class QcTestQuestion(models.Model):
    _inherit = "qc.test.question"

    mfg_code = fields.Char(
        string="Characteristic Code",
        help="Code of this characteristic in quality systems' reports; else the question's name is matched.",
    )

    def _mfg_matches(self, code):
        self.ensure_one()
        code = (code or "").strip().casefold()
        return code in {(self.mfg_code or "").strip().casefold(), (self.name or "").strip().casefold()} - {""}
