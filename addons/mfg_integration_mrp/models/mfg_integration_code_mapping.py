from odoo import api, models


class MfgIntegrationCodeMapping(models.Model):
    _inherit = "mfg.integration.code.mapping"

    @api.model
    def _fallback_workcenter(self, system, code):
        Workcenter = self.env["mrp.workcenter"].with_company(system.company_id)
        return Workcenter.search([("code", "=", code)], limit=1) or Workcenter.search([("name", "=", code)], limit=1)

    @api.model
    def _fallback_reason(self, system, code):
        return self.env["mrp.workcenter.productivity.loss"].search([("name", "=ilike", code)], limit=1)

    @api.model
    def _fallback_scrap_reason(self, system, code):
        return self.env["stock.scrap.reason.tag"].search([("name", "=ilike", code)], limit=1)
