from odoo import models

from .mrp_bom import BOM_CHANGED
from .mrp_workcenter import WORK_CENTER_CHANGED


class MfgIntegrationSystem(models.Model):
    _inherit = "mfg.integration.system"

    def _mfg_snapshot_sources(self):
        company = [("company_id", "in", (False, self.company_id.id))]
        return [
            *super()._mfg_snapshot_sources(),
            (WORK_CENTER_CHANGED, "mrp.workcenter", company, "_mfg_emit_work_center"),
            (BOM_CHANGED, "mrp.bom", company, "_mfg_emit_bom"),
        ]
