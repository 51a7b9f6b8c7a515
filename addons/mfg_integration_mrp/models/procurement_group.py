from odoo import api, models


class ProcurementGroup(models.Model):
    _inherit = "procurement.group"

    @api.model
    def _get_push_rule(self, product_id, location_dest_id, values):
        # A close (mrp.production._mfg_mark_done) pushes its orders' moves of the same products to the
        # same locations: each search up the locations is made once per close, the rules do not change
        # meanwhile. Same answer as Odoo's: the key holds every argument and what the search depends on.
        found = self.env.context.get("mfg_push_rules")
        if found is None:
            return super()._get_push_rule(product_id, location_dest_id, values)
        key = (
            self.env.uid,
            self.env.su,
            tuple(self.env.companies.ids),
            product_id.id,
            location_dest_id.id,
            tuple(
                (name, tuple(value.ids) if isinstance(value, models.BaseModel) else repr(value))
                for name, value in sorted(values.items())
            ),
        )
        if key not in found:
            found[key] = super()._get_push_rule(product_id, location_dest_id, values).ids
        return self.env["stock.rule"].browse(found[key])
