from odoo import models


class StockLocation(models.Model):
    _inherit = "stock.location"

    def _mfg_warehouse(self):
        return self.warehouse_id
