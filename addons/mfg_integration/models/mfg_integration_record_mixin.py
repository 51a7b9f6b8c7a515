from odoo import api, fields, models

# The worst open state of a record's messages decides its badge.
STATUS_BY_STATE = {"dead": "failed", "retry": "failed", "pending": "pending", "in_progress": "pending"}


class MfgIntegrationRecordMixin(models.AbstractModel):
    """Integration status on business documents: smart button, badge, 'Integration failed' filter."""

    _name = "mfg.integration.record.mixin"
    _description = "Integration Status on Business Records"

    mfg_message_count = fields.Integer(string="Integration Messages", compute="_compute_mfg_integration_status")
    mfg_integration_status = fields.Selection(
        [("none", "No messages"), ("in_sync", "In sync"), ("pending", "Pending"), ("failed", "Failed")],
        string="Integration",
        compute="_compute_mfg_integration_status",
        search="_search_mfg_integration_status",
    )

    def _compute_mfg_integration_status(self):
        # sudo: planners see the status of their own documents without needing
        # read access to the integration messages themselves.
        Message = self.env["mfg.integration.message"].sudo()
        rows = Message._read_group(
            [("res_model", "=", self._name), ("res_id", "in", self.ids)], ["res_id", "state"], ["__count"]
        )
        counts, states = {}, {}
        for res_id, state, count in rows:
            counts[res_id] = counts.get(res_id, 0) + count
            states.setdefault(res_id, set()).add(state)
        for record in self:
            record.mfg_message_count = counts.get(record.id, 0)
            record.mfg_integration_status = _status(states.get(record.id))

    @api.model
    def _search_mfg_integration_status(self, operator, value):
        if operator not in ("=", "!=") or value not in ("failed", "pending"):
            raise NotImplementedError(self.env._("Only 'Integration failed/pending' can be searched."))
        states = [state for state, status in STATUS_BY_STATE.items() if status == value]
        # sudo: see _compute_mfg_integration_status
        messages = (
            self.env["mfg.integration.message"]
            .sudo()
            ._read_group([("res_model", "=", self._name), ("state", "in", states)], ["res_id"])
        )
        ids = [res_id for (res_id,) in messages]
        return [("id", "in" if operator == "=" else "not in", ids)]

    def action_view_mfg_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("mfg_integration.mfg_integration_message_action")
        action["domain"] = [("res_model", "=", self._name), ("res_id", "=", self.id)]
        action["context"] = {"search_default_failed": 1} if self.mfg_integration_status == "failed" else {}
        return action


def _status(states):
    if not states:
        return "none"
    statuses = {STATUS_BY_STATE.get(state, "in_sync") for state in states}
    for status in ("failed", "pending"):
        if status in statuses:
            return status
    return "in_sync"
