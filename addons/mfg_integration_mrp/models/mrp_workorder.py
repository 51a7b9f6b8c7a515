from odoo import api, fields, models

from odoo.addons.mfg_integration.exceptions import MfgBusinessError
from odoo.addons.mfg_integration.lib.timeconv import parse_rfc3339, to_rfc3339
from odoo.addons.mfg_integration_stock.lib.results import records_result

STARTED = "mfg.work_order.started.v1"
FINISHED = "mfg.work_order.finished.v1"


class MrpWorkorder(models.Model):
    _name = "mrp.workorder"
    _inherit = ["mrp.workorder", "mfg.integration.record.mixin"]

    def _mfg_warehouse(self):
        return self.production_id.picking_type_id.warehouse_id

    def button_start(self, raise_on_invalid_state=False):
        not_started = self.filtered(lambda workorder: workorder.state not in ("progress", "done", "cancel"))
        waiting_orders = self.production_id.filtered(lambda production: production.state == "confirmed")
        # Odoo rewrites the order's start date and producing quantity here: the order's
        # started event is sent below, not a change (see mrp.production.write).
        result = super(MrpWorkorder, self.with_context(mfg_transition=True)).button_start(
            raise_on_invalid_state=raise_on_invalid_state
        )
        occurred_at = self.env.context.get("mfg_occurred_at")
        if occurred_at:
            # Started from the shop floor: the time log, the operation and the order start when it happened.
            self.time_ids.filtered(lambda t: not t.date_end and t.user_id == self.env.user).write(
                {"date_start": occurred_at}
            )
            not_started.with_context(bypass_duration_calculation=True).write({"date_start": occurred_at})
            self.production_id._mfg_started_by_report(dict.fromkeys(self.production_id.ids, occurred_at))
        waiting_orders._mfg_emit_started()
        for workorder in not_started.filtered(lambda workorder: workorder.state == "progress"):
            self.env["mfg.integration.message"].emit(STARTED, workorder, workorder._mfg_data)
        return result

    def button_finish(self):
        unfinished = self.filtered(lambda workorder: workorder.state != "done")
        result = super(MrpWorkorder, self.with_context(mfg_transition=True)).button_finish()
        finished = unfinished.filtered(lambda workorder: workorder.state == "done")
        occurred_at = self.env.context.get("mfg_occurred_at")
        if occurred_at:
            # Finished on the shop floor (its time logs closed then too: mrp.workcenter.productivity._close).
            for workorder in finished:
                workorder.with_context(bypass_duration_calculation=True).write(
                    {"date_start": min(workorder.date_start or occurred_at, occurred_at), "date_finished": occurred_at}
                )
        for workorder in finished:
            self.env["mfg.integration.message"].emit(FINISHED, workorder, workorder._mfg_data)
        return result

    def _mfg_data(self):
        self.ensure_one()
        return {
            "production_order": self.production_id._mfg_reference(),
            "plant": self.production_id.picking_type_id.warehouse_id._mfg_plant_code(),
            "operation": self.name,
            "work_center": self.workcenter_id._mfg_code(),
            "state": self.state,
            "started_at": to_rfc3339(self.date_start),
            "finished_at": to_rfc3339(self.date_finished),
            "duration_minutes": self.duration,
        }

    # -- inbound: mfg.work_order.progress_reported.v1 -------------------------------------

    @api.model
    def _mfg_handle_progress_reported(self, message, data):
        production = self.env["mrp.production"]._mfg_find_order(data["production_order"])
        operation = data["operation"]
        workorder = production.workorder_ids.filtered(
            lambda w: operation in (w.name, w.operation_id.name, w.workcenter_id.code)
        )[:1]
        if not workorder:
            raise MfgBusinessError(
                self.env._("Order %(ref)s has no operation %(op)s.", ref=production.name, op=operation),
                path="/data/operation",
            )
        if workorder.state in ("done", "cancel"):
            raise MfgBusinessError(
                self.env._(
                    "Operation %(op)s of %(ref)s is already %(state)s.",
                    op=operation,
                    ref=production.name,
                    state=workorder.state,
                ),
                path="/data/operation",
            )
        occurred_at = parse_rfc3339(data["occurred_at"])
        action = data["action"]
        # Each step is dated when it happened on the shop floor, not when it arrived.
        workorder = workorder.with_context(mfg_occurred_at=occurred_at)
        if action in ("start", "resume"):
            workorder.button_start()
        elif action == "pause":
            workorder.button_pending()
        else:
            workorder.button_finish()
        return records_result(
            workorder,
            state=workorder.state,
            duration_minutes=workorder.duration,
            reported_at=to_rfc3339(fields.Datetime.now()),
        )
