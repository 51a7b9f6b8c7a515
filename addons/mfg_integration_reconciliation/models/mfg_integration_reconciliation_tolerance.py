from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib.compare import EXACT, Tolerance


class MfgIntegrationReconciliationTolerance(models.Model):
    """How far a system's quantity may differ from Odoo's before it is a difference."""

    _name = "mfg.integration.reconciliation.tolerance"
    _description = "Reconciliation Tolerance"
    # Company-owned configuration, as the core's: a manager cannot move a tolerance into a company he cannot access.
    _inherit = ["mfg.integration.company.mixin"]
    _order = "company_id, categ_id, uom_id"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    categ_id = fields.Many2one(
        "product.category", string="Product Category", help="Empty: every category (a category's own rule wins)."
    )
    uom_id = fields.Many2one("uom.uom", string="Unit", help="Empty: every unit (a unit's own rule wins).")
    absolute = fields.Float(string="Absolute Tolerance", digits="Product Unit of Measure", help="In the unit.")
    percent = fields.Float(string="Tolerance (%)", help="Of Odoo's quantity; the larger of both tolerances applies.")

    _sql_constraints = [
        (
            "scope_unique",
            "unique NULLS NOT DISTINCT (company_id, categ_id, uom_id)",
            "There is already a tolerance for this category and unit.",
        ),
    ]

    @api.constrains("absolute", "percent")
    def _check_positive(self):
        if any(tolerance.absolute < 0 or tolerance.percent < 0 for tolerance in self):
            raise ValidationError(self.env._("A tolerance cannot be negative."))

    @api.model
    def _for_company(self, company):
        """A function (product, uom) -> Tolerance: the most specific rule of ``company``
        (category and unit, then category, then unit, then the general one), else exact."""
        rules = {
            (rule.categ_id.id, rule.uom_id.id): Tolerance(rule.absolute, rule.percent)
            for rule in self.search([("company_id", "=", company.id)])
        }

        def tolerance_of(product, uom):
            categ = product.categ_id.id
            for key in ((categ, uom.id), (categ, False), (False, uom.id), (False, False)):
                if key in rules:
                    return rules[key]
            return EXACT

        return tolerance_of
