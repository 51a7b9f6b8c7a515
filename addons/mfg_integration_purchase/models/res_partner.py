from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    mfg_system_id = fields.Many2one(
        "mfg.integration.system",
        string="Supplier System",
        index="btree_not_null",
        help="Supplier portal or EDI gateway of this supplier: purchase order events go to this system "
        "only, and only this system may acknowledge its orders or notify their shipments.",
    )

    def _mfg_supplier_system(self):
        """The external system of this supplier (set on the company, or on the contact itself)."""
        self.ensure_one()
        return self.mfg_system_id or self.commercial_partner_id.mfg_system_id
