from odoo import fields, models


class MfgIntegrationReconciliationExplainWizard(models.TransientModel):
    """Asks the reason before marking differences explained."""

    _name = "mfg.integration.reconciliation.explain.wizard"
    _description = "Explain Reconciliation Differences"

    line_ids = fields.Many2many(
        "mfg.integration.reconciliation.line",
        relation="mfg_integration_reconciliation_explain_line_rel",
        column1="wizard_id",
        column2="line_id",
        string="Differences",
        readonly=True,
    )
    reason = fields.Text(required=True, help="Why Odoo and the system may differ here (kept on every difference).")

    def action_confirm(self):
        self.ensure_one()
        self.line_ids._explain(self.reason)
        return {"type": "ir.actions.act_window_close"}
