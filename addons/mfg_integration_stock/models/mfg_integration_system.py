from odoo import fields, models

from odoo.addons.mfg_integration.exceptions import MfgBusinessError


class MfgIntegrationSystem(models.Model):
    _inherit = "mfg.integration.system"

    warehouse_id = fields.Many2one(
        "stock.warehouse",
        string="Plant",
        check_company=True,
        help="The plant this system serves: it only hears about this warehouse's orders and transfers. "
        "Empty: every plant of the company.",
    )
    allow_lot_creation = fields.Boolean(
        help="Inbound reports may create lots/serial numbers that do not exist yet.",
    )

    def _mfg_check_plant(self, warehouse, reference, path):
        """A plant's system reports only about its own plant's documents."""
        self.ensure_one()
        if self.warehouse_id and warehouse and warehouse != self.warehouse_id:
            raise MfgBusinessError(
                self.env._(
                    "%(ref)s belongs to plant %(plant)s; system %(system)s serves plant %(own)s.",
                    ref=reference,
                    plant=warehouse.code,
                    system=self.code,
                    own=self.warehouse_id.code,
                ),
                path=path,
            )
