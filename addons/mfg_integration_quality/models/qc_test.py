from odoo import fields, models


class QcTest(models.Model):
    _inherit = "qc.test"

    mfg_code = fields.Char(
        string="Integration Code",
        index="btree_not_null",
        help="Code of this test in quality systems' reports (mfg.quality.result_reported.v1 'test').",
    )

    _sql_constraints = [
        ("mfg_code_company_unique", "unique(mfg_code, company_id)", "A test's integration code must be unique."),
    ]
