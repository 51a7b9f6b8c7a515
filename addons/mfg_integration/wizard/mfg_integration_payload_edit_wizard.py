import json

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib import payload


class MfgIntegrationPayloadEditWizard(models.TransientModel):
    """Support fixes a failed inbound event's payload and applies it again."""

    _name = "mfg.integration.payload.edit.wizard"
    _description = "Edit Inbound Payload and Reprocess"

    message_id = fields.Many2one("mfg.integration.message", required=True, ondelete="cascade")
    last_error = fields.Text(related="message_id.last_error")
    payload = fields.Text(required=True, help="The whole CloudEvents event; its id and type cannot change.")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        message = self.env["mfg.integration.message"].browse(values.get("message_id"))
        if message and "payload" in fields_list:
            values["payload"] = payload.pretty_json(message.payload)
        return values

    def action_apply(self):
        self.ensure_one()
        try:
            event = json.loads(self.payload)
        except ValueError as error:
            raise UserError(_("The payload is not valid JSON: %(error)s", error=error)) from error
        self.message_id._inbound_edit_payload(event)
        return {"type": "ir.actions.act_window_close"}
