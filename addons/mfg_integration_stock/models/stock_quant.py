from odoo import api, fields, models
from odoo.tools import float_round

from odoo.addons.mfg_integration.exceptions import MfgBusinessError
from odoo.addons.mfg_integration.lib.timeconv import parse_rfc3339, to_rfc3339

from ..lib.results import records_result

ADJUSTED = "mfg.inventory.adjusted.v1"


class StockQuant(models.Model):
    _inherit = "stock.quant"

    def _apply_inventory(self):
        # Read before applying: the adjustment resets the counted quantities.
        counts = [
            (quant.location_id, quant.product_id, quant.lot_id, quant.quantity, quant.inventory_quantity)
            for quant in self
        ]
        result = super()._apply_inventory()
        self._mfg_emit_adjusted(counts)
        return result

    @api.model
    def _mfg_emit_adjusted(self, counts):
        """One adjusted event per location, with every adjusted material and lot."""
        adjusted_at = to_rfc3339(self.env.context.get("mfg_occurred_at") or fields.Datetime.now())
        by_location = {}
        for location, product, lot, previous, counted in counts:
            by_location.setdefault(location, []).append(
                {
                    "material": product._mfg_code(),
                    "lot": lot.name or None,
                    "previous_quantity": previous,
                    "counted_quantity": counted,
                    "difference": float_round(counted - previous, precision_rounding=product.uom_id.rounding),
                    "uom": product.uom_id.name,
                }
            )
        Message = self.env["mfg.integration.message"]
        for location, lines in by_location.items():
            data = {
                "location": location.complete_name,
                "location_barcode": location.barcode or None,
                "plant": location.warehouse_id.code or None,
                "adjusted_at": adjusted_at,
                "lines": lines,
            }
            Message.emit(ADJUSTED, location, data, subject=location.complete_name)

    # -- inbound: mfg.inventory.count_reported.v1 -------------------------------------------

    @api.model
    def _mfg_handle_count_reported(self, message, data):
        """Apply counted quantities at one location as an inventory adjustment."""
        system = message.system_id
        Mapping = self.env["mfg.integration.code.mapping"]
        location = Mapping.resolve(system, "location", data["location"], path="/data/location")
        if location.usage not in ("internal", "transit"):
            raise MfgBusinessError(
                self.env._("%(location)s holds no stock: it cannot be counted.", location=location.complete_name),
                path="/data/location",
            )
        system._mfg_check_plant(location.warehouse_id, location.complete_name, "/data/location")
        counted_at = parse_rfc3339(data["counted_at"]) if data.get("counted_at") else None
        Quant = self.with_context(inventory_mode=True)
        quants = self.browse()
        for index, line in enumerate(data["lines"]):
            path = f"/data/lines/{index}"
            product = Mapping.resolve(system, "product", line["material"], path=f"{path}/material")
            if not product.is_storable:
                raise MfgBusinessError(
                    self.env._("%(material)s is not tracked in stock.", material=line["material"]),
                    path=f"{path}/material",
                )
            lot = self.env["stock.lot"]._mfg_reported(system, product, line.get("lot"), f"{path}/lot")
            counted = Mapping._resolve_quantity(
                system, line["counted_quantity"], line.get("uom"), product.uom_id, f"{path}/uom"
            )
            quant = Quant._gather(product, location, lot_id=lot, strict=True).filtered(
                lambda q: not q.package_id and not q.owner_id
            )[:1]
            if quant in quants:
                raise MfgBusinessError(
                    self.env._("%(material)s is counted twice.", material=line["material"]), path=path
                )
            if quant:
                quant.inventory_quantity = counted
            else:
                quant = Quant.create(
                    {
                        "product_id": product.id,
                        "location_id": location.id,
                        "lot_id": lot.id or False,
                        "inventory_quantity": counted,
                    }
                )
            quants |= quant
        # Dated when counted (see stock.move._action_done).
        quants.with_context(mfg_occurred_at=counted_at)._apply_inventory()
        quants.inventory_quantity_set = False
        return records_result(
            location,
            lines=[
                {"material": quant.product_id._mfg_code(), "lot": quant.lot_id.name or None, "on_hand": quant.quantity}
                for quant in quants.exists()
            ],
        )
