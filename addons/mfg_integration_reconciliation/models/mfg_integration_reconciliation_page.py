from odoo import fields, models


class MfgIntegrationReconciliationPage(models.Model):
    """One received page of a snapshot: its items as sent, until the snapshot is complete."""

    _name = "mfg.integration.reconciliation.page"
    _description = "Reconciliation Snapshot Page"
    _order = "run_id, page"

    run_id = fields.Many2one(
        "mfg.integration.reconciliation.run", required=True, readonly=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="run_id.company_id", store=True, index=True)
    page = fields.Integer(required=True, readonly=True)
    items = fields.Text(readonly=True, help="The page's items (JSON) as the system sent them.")
    # Indexed: the retention purge keeps the messages of pages still here, one lookup per message.
    message_id = fields.Many2one(
        "mfg.integration.message", string="Event", readonly=True, ondelete="set null", index="btree_not_null"
    )

    _sql_constraints = [
        ("page_unique", "unique(run_id, page)", "A page of a snapshot is received once."),
    ]
