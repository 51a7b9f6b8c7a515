from odoo import api, models

from odoo.addons.mfg_integration.lib.timeconv import parse_rfc3339
from odoo.addons.mfg_integration_stock.lib.results import records_result


class MrpWorkcenterProductivity(models.Model):
    _inherit = "mrp.workcenter.productivity"

    def _close(self):
        """A time log closed by a shop-floor report ends when the report happened: it is the time
        worked as reported, not Odoo's split of the time up to now into productive and reduced speed."""
        occurred_at = self.env.context.get("mfg_occurred_at")
        if not occurred_at:
            return super()._close()
        for timer in self:
            timer.date_end = max(occurred_at, timer.date_start)
        return None

    @api.model
    def _mfg_handle_downtime_reported(self, message, data):
        """Record a downtime as a productivity loss: open until a report with the same
        work center and start time brings its end."""
        system = message.system_id
        Mapping = self.env["mfg.integration.code.mapping"]
        workcenter = Mapping.resolve(system, "workcenter", data["work_center"], path="/data/work_center")
        reason = Mapping.resolve(system, "reason", data["reason"], path="/data/reason")
        started_at = parse_rfc3339(data["started_at"])
        ended_at = parse_rfc3339(data["ended_at"]) if data.get("ended_at") else False
        note = " ".join(filter(None, [data.get("production_order"), data.get("note")])) or False
        downtime = self.search(
            [("workcenter_id", "=", workcenter.id), ("date_start", "=", started_at), ("loss_id", "=", reason.id)],
            limit=1,
        )
        if downtime:
            downtime.write({"date_end": ended_at or downtime.date_end, "description": note or downtime.description})
        else:
            downtime = self.create(
                {
                    "workcenter_id": workcenter.id,
                    "loss_id": reason.id,
                    "date_start": started_at,
                    "date_end": ended_at,
                    "description": note,
                    "company_id": workcenter.company_id.id or system.company_id.id,
                }
            )
        return records_result(
            downtime,
            open=not downtime.date_end,
            duration_minutes=downtime.duration,
        )
