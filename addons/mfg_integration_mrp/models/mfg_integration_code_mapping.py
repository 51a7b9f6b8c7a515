from odoo import api, fields, models


class MfgIntegrationCodeMapping(models.Model):
    _inherit = "mfg.integration.code.mapping"

    kind = fields.Selection(
        selection_add=[("workcenter", "Work Center"), ("reason", "Downtime Reason")],
        ondelete={"workcenter": "cascade", "reason": "cascade"},
    )

    @api.model
    def _kind_models(self):
        return dict(super()._kind_models(), workcenter="mrp.workcenter", reason="mrp.workcenter.productivity.loss")

    @api.model
    def _find_workcenter(self, system, code):
        """Work center code first, then name (what the released job orders carry)."""
        return self._find_code("mrp.workcenter", system, ("code", "name"), code)

    @api.model
    def _find_reason(self, system, code):
        return self._find_code("mrp.workcenter.productivity.loss", system, ("name",), code, ignore_case=True)
