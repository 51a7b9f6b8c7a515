from odoo import fields, models
from odoo.tools import float_compare

from odoo.addons.mfg_integration.exceptions import MfgBusinessError

from .product_product import MATERIAL_CHANGED

# Records read and queued at a time by a snapshot: bounded memory whatever the catalog's size.
SNAPSHOT_PAGE = 200


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
    allow_negative_stock = fields.Boolean(
        string="May Drive Stock Negative",
        help="Movements and shipments reported by this system may take more than a location holds. "
        "Off: such a report is refused (422) naming the line.",
    )

    def _mfg_snapshot_sources(self):
        """[(event type code, model, domain, emitting method)] of the master data a snapshot sends;
        the method is called on a page of records as method(change, endpoints=...)."""
        self.ensure_one()
        return [
            (
                MATERIAL_CHANGED,
                "product.product",
                [("type", "=", "consu"), ("company_id", "in", (False, self.company_id.id))],
                "_mfg_emit_material",
            )
        ]

    def action_mfg_send_snapshot(self):
        """Support: queue the full master data for this system's subscribed endpoints (initial load),
        one event per record, read page by page, sent by the dispatcher like every event."""
        self.ensure_one()
        self.env["mfg.integration.message"]._check_manager()
        counts = []
        for code, model, domain, method in self._mfg_snapshot_sources():
            endpoints = self.endpoint_ids.filtered(
                lambda endpoint, code=code: (
                    endpoint.active and code in endpoint.subscription_ids.event_type_id.mapped("code")
                )
            )
            if not endpoints:
                continue
            Model = self.env[model].with_company(self.company_id)
            sent, offset = 0, 0
            while page := Model.search(domain, order="id", limit=SNAPSHOT_PAGE, offset=offset):
                getattr(page, method)("snapshot", endpoints=endpoints)
                sent += len(page)
                offset += SNAPSHOT_PAGE
                page.invalidate_recordset()
            counts.append(f"{sent} {code}")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Snapshot queued"),
                "message": self.env._(
                    "Queued for %(system)s: %(counts)s.", system=self.code, counts=", ".join(counts) or "-"
                ),
                "type": "info",
            },
        }

    def _mfg_check_on_hand(self, product, location, lot, quantity, path):
        """Refuse taking more of ``product`` (and ``lot``) out of ``location`` than it holds,
        unless this system may drive stock negative. ``quantity`` is in the product's unit."""
        self.ensure_one()
        if self.allow_negative_stock or not product.is_storable:
            return
        quants = self.env["stock.quant"]._gather(product, location, lot_id=lot or None, strict=bool(lot))
        on_hand = sum(quants.mapped("quantity"))
        if float_compare(quantity, on_hand, precision_rounding=product.uom_id.rounding) > 0:
            lot_text = f" {lot.name}" if lot else ""  # outside the _() call: the .pot extraction reads its arguments
            raise MfgBusinessError(
                self.env._(
                    "%(location)s holds %(on_hand)s %(uom)s of %(material)s%(lot)s: %(quantity)s cannot be taken "
                    "(this system may not drive stock negative).",
                    location=location.complete_name,
                    on_hand=on_hand,
                    uom=product.uom_id.name,
                    material=product._mfg_code(),
                    lot=lot_text,
                    quantity=quantity,
                ),
                path=path,
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
