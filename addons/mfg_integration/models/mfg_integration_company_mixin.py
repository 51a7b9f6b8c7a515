from odoo import models


class MfgIntegrationCompanyMixin(models.AbstractModel):
    """Integration configuration owned by a company (its own or its system's, endpoint's).

    Record rules are checked on the records before a write; checking them again after it keeps a
    user from moving a record into a company he cannot access (e.g. re-parenting an endpoint onto
    another company's system, so that that company's events go to his URL).
    """

    _name = "mfg.integration.company.mixin"
    _description = "Integration Company-owned Configuration"

    def write(self, vals):
        result = super().write(vals)
        if not self.env.su:
            self.check_access("write")
        return result
