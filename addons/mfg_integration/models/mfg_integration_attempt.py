from odoo import fields, models


class MfgIntegrationAttempt(models.Model):
    """One delivery attempt of an outbound message (or one processing attempt of an inbound one)."""

    _name = "mfg.integration.attempt"
    _description = "Integration Delivery Attempt"
    _order = "attempted_at desc, id desc"

    message_id = fields.Many2one("mfg.integration.message", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="message_id.company_id", store=True)
    attempted_at = fields.Datetime(required=True, default=fields.Datetime.now)
    duration_ms = fields.Integer(string="Duration (ms)")
    http_status = fields.Integer(string="HTTP Status", help="0 when no HTTP answer was received.")
    response_excerpt = fields.Text(help="Start of the receiver's answer, or the error.")
