from odoo import api, models

WORK_CENTER_CHANGED = "mfg.work_center.changed.v1"
# Fields of a work center the shop floor keeps in its own master data.
WORK_CENTER_FIELDS = ("code", "name", "default_capacity", "time_efficiency", "active")


class MrpWorkcenter(models.Model):
    _inherit = "mrp.workcenter"

    def _mfg_code(self):
        """The code external systems know the work center by: its code, else its name."""
        self.ensure_one()
        return self.code or self.name

    # -- outbound master data: mfg.work_center.changed.v1 --------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        workcenters = super().create(vals_list)
        workcenters._mfg_emit_work_center("created")
        return workcenters

    def write(self, vals):
        result = super().write(vals)
        if any(name in vals for name in WORK_CENTER_FIELDS):
            self._mfg_emit_work_center("changed")
        return result

    def _mfg_emit_work_center(self, change, endpoints=None):
        Message = self.env["mfg.integration.message"]
        for workcenter in self:
            Message.emit(
                WORK_CENTER_CHANGED,
                workcenter,
                lambda workcenter=workcenter: workcenter._mfg_work_center_data(change),
                endpoints=endpoints,
            )

    def _mfg_work_center_data(self, change):
        self.ensure_one()
        return {
            "work_center": self._mfg_code(),
            "name": self.name,
            "capacity": self.default_capacity,
            "time_efficiency": self.time_efficiency,
            "active": self.active,
            "change": change,
        }
