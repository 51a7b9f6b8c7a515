from markupsafe import Markup

from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools.safe_eval import safe_eval

from odoo.addons.mfg_integration.exceptions import MfgBusinessError
from odoo.addons.mfg_integration.lib.timeconv import parse_rfc3339, to_rfc3339

from ..lib.results import records_result

TRANSFER_DONE = "mfg.inventory.transfer_done.v1"
TRANSFER_RELEASED = "mfg.inventory.transfer_released.v1"
TRANSFER_CHANGED = "mfg.inventory.transfer_changed.v1"
TRANSFER_CANCELLED = "mfg.inventory.transfer_cancelled.v1"


class StockPicking(models.Model):
    _name = "stock.picking"
    _inherit = ["stock.picking", "mfg.integration.record.mixin"]

    mfg_released = fields.Boolean(
        string="Released to the Warehouse Systems",
        copy=False,
        readonly=True,
        help="The transfer was ready and announced to the subscribed WMS/3PL (transfer_released event).",
    )

    def _mfg_warehouse(self):
        return self.picking_type_id.warehouse_id

    # -- outbound: released / changed / cancelled to the WMS or 3PL that picks it ------------

    def _mfg_release_ready(self):
        """Announce the transfers of ``self`` that just became ready, once each."""
        for picking in self.filtered(lambda p: p.state == "assigned" and not p.mfg_released):
            picking.mfg_released = True
            self.env["mfg.integration.message"].emit(TRANSFER_RELEASED, picking, picking._mfg_transfer_data)

    def _mfg_announce_change(self, changed):
        """Released, still open transfers of ``self`` changed ``changed`` (event member names)."""
        for picking in self.filtered(lambda p: p.mfg_released and p.state not in ("done", "cancel")):
            self.env["mfg.integration.message"].emit(
                TRANSFER_CHANGED, picking, lambda picking=picking: dict(picking._mfg_transfer_data(), changed=changed)
            )

    def write(self, vals):
        moved = None
        if "scheduled_date" in vals:
            when = fields.Datetime.to_datetime(vals["scheduled_date"])
            moved = self.filtered(lambda picking: picking.scheduled_date != when)
        result = super().write(vals)
        if moved and not self.env.context.get("mfg_transition"):
            moved._mfg_announce_change(["scheduled_at"])
        return result

    def action_cancel(self):
        released = self.filtered(lambda p: p.mfg_released and p.state not in ("done", "cancel"))
        result = super(StockPicking, self.with_context(mfg_transition=True)).action_cancel()
        for picking in released.filtered(lambda p: p.state == "cancel"):
            self.env["mfg.integration.message"].emit(
                TRANSFER_CANCELLED,
                picking,
                {
                    "transfer": picking.name,
                    "plant": picking.picking_type_id.warehouse_id.code or None,
                    "cancelled_at": to_rfc3339(fields.Datetime.now()),
                },
            )
        return result

    def _mfg_transfer_data(self):
        """What the WMS/3PL must pick: the transfer's moves, with the lots Odoo reserved."""
        self.ensure_one()
        return {
            "transfer": self.name,
            "kind": self.picking_type_id.code,
            "operation_type": self.picking_type_id.display_name,
            "plant": self.picking_type_id.warehouse_id.code or None,
            "origin": self.origin or None,
            "backorder_of": self.backorder_id.name or None,
            "partner": self.partner_id.display_name or None,
            "scheduled_at": to_rfc3339(self.scheduled_date),
            "lines": [
                {
                    "material": move.product_id._mfg_code(),
                    "quantity": move.product_uom_qty,
                    "uom": move.product_uom.name,
                    "from_location": move.location_id.complete_name,
                    "to_location": move.location_dest_id.complete_name,
                    "lots": [
                        {"lot": line.lot_id.name, "quantity": line.quantity}
                        for line in move.move_line_ids
                        if line.lot_id
                    ],
                }
                for move in self.move_ids
                if move.state != "cancel"
            ],
        }

    def _mfg_current_state(self):
        self.ensure_one()
        if self.state == "done":
            return TRANSFER_DONE, self._mfg_transfer_done_data
        if self.mfg_released and self.state != "cancel":
            return TRANSFER_RELEASED, self._mfg_transfer_data
        return None

    @api.model
    def _mfg_resync_domain(self, system):
        """Open transfers released to ``system``: its plant's, matching its transfer_released subscriptions."""
        domain = [
            ("mfg_released", "=", True),
            ("state", "not in", ("done", "cancel")),
            ("company_id", "=", system.company_id.id),
        ]
        if system.warehouse_id:
            domain.append(("picking_type_id.warehouse_id", "=", system.warehouse_id.id))
        # sudo: the caller's own endpoints' subscriptions (configuration it cannot read itself).
        subscriptions = (
            self.env["mfg.integration.subscription"]
            .sudo()
            .search([("endpoint_id.system_id", "=", system.id), ("event_type_id.code", "=", TRANSFER_RELEASED)])
        )
        filters = [safe_eval(subscription.filter_domain or "[]") for subscription in subscriptions]
        return expression.AND([domain, expression.OR(filters) if filters else expression.FALSE_DOMAIN])

    def _action_done(self):
        result = super(StockPicking, self.with_context(mfg_transition=True))._action_done()
        done = self.filtered(lambda p: p.state == "done")
        occurred_at = self.env.context.get("mfg_occurred_at")
        if occurred_at:
            # Reported from the floor: done when it happened (its moves: see stock.move._action_done).
            done.date_done = occurred_at
        Message = self.env["mfg.integration.message"]
        for picking in done:
            Message.emit(TRANSFER_DONE, picking, picking._mfg_transfer_done_data)
        return result

    def _mfg_transfer_done_data(self):
        """Business view of a validated transfer: what moved, which lots, from where to where."""
        self.ensure_one()
        return {
            "transfer": self.name,
            "kind": self.picking_type_id.code,
            "plant": self.picking_type_id.warehouse_id.code or None,
            "origin": self.origin or None,
            "partner": self.partner_id.display_name or None,
            "done_at": to_rfc3339(self.date_done),
            "lines": [
                {
                    "material": line.product_id._mfg_code(),
                    "quantity": line.quantity,
                    "uom": line.product_uom_id.name,
                    "lot": line.lot_id.name or None,
                    "from_location": line.location_id.complete_name,
                    "to_location": line.location_dest_id.complete_name,
                }
                for line in self.move_line_ids
                if line.quantity
            ],
        }

    # -- inbound: mfg.shipment.dispatched.v1 --------------------------------------------------

    @api.model
    def _mfg_handle_shipment_dispatched(self, message, data):
        """Validate a delivery with what was shipped; the rest goes to a backorder."""
        system = message.system_id
        picking = self.search([("name", "=", data["transfer"]), ("picking_type_code", "=", "outgoing")], limit=1)
        if not picking:
            raise MfgBusinessError(
                self.env._("Delivery %(ref)s does not exist.", ref=data["transfer"]), path="/data/transfer"
            )
        if picking.state in ("done", "cancel"):
            raise MfgBusinessError(
                self.env._(
                    "Delivery %(ref)s is %(state)s: it cannot be dispatched.",
                    ref=picking.name,
                    state=dict(picking._fields["state"]._description_selection(self.env))[picking.state],
                ),
                path="/data/transfer",
            )
        system._mfg_check_plant(picking.picking_type_id.warehouse_id, picking.name, "/data/transfer")
        if picking.state == "draft":
            picking.action_confirm()
        shipped = picking._mfg_shipped_quantities(system, data["lines"])
        for move, lines in shipped.items():
            # What was shipped replaces Odoo's reservation on the move.
            move.move_line_ids.unlink()
            self.env["stock.move.line"].create(
                [
                    {
                        "move_id": move.id,
                        "picking_id": picking.id,
                        "product_id": move.product_id.id,
                        "product_uom_id": move.product_uom.id,
                        "lot_id": lot.id or False,
                        "quantity": quantity,
                        "location_id": location.id,
                        "location_dest_id": move.location_dest_id.id,
                        "picked": True,
                    }
                    for (lot, location), quantity in lines.items()
                ]
            )
            move.picked = True
        dispatched_at = parse_rfc3339(data["dispatched_at"])
        # Odoo's backorder rule of the operation type decides about the rest (no wizard here).
        picking.with_context(mfg_occurred_at=dispatched_at, skip_backorder=True, skip_sms=True).button_validate()
        if picking.state != "done":
            # A validation step that needs a person (e.g. a quality check) stopped it.
            raise MfgBusinessError(
                self.env._("Delivery %(ref)s could not be validated automatically.", ref=picking.name),
                path="/data/transfer",
            )
        if data.get("tracking_ref"):
            if "carrier_tracking_ref" in picking._fields:
                picking.carrier_tracking_ref = data["tracking_ref"]
            system._post_on(
                picking,
                Markup("<p>%s <b>%s</b></p>")
                % (self.env._("Dispatched, carrier tracking reference:"), data["tracking_ref"]),
            )
        backorders = self.search([("backorder_id", "=", picking.id)])
        return records_result(picking, backorders, state=picking.state, backorders=backorders.mapped("name"))

    def _mfg_shipped_quantities(self, system, lines):
        """{move: {(lot, source location): quantity in the move's unit}} of the reported lines."""
        self.ensure_one()
        Mapping = self.env["mfg.integration.code.mapping"]
        shipped = {}
        for index, line in enumerate(lines):
            path = f"/data/lines/{index}"
            product = Mapping.resolve(system, "product", line["material"], path=f"{path}/material")
            move = self.move_ids.filtered(
                lambda m, product=product: m.product_id == product and m.state not in ("done", "cancel")
            )[:1]
            if not move:
                raise MfgBusinessError(
                    self.env._("%(material)s is not on delivery %(ref)s.", material=line["material"], ref=self.name),
                    path=f"{path}/material",
                )
            quantity = Mapping._resolve_quantity(
                system, line["quantity"], line.get("uom"), move.product_uom, f"{path}/uom"
            )
            lot = self.env["stock.lot"]._mfg_reported(system, product, line.get("lot"), f"{path}/lot")
            location = move.location_id
            if lot:
                # Ship the lot from where it is stored under the delivery's source location.
                quant = self.env["stock.quant"].search(
                    [
                        ("product_id", "=", product.id),
                        ("lot_id", "=", lot.id),
                        ("location_id", "child_of", move.location_id.id),
                        ("quantity", ">", 0),
                    ],
                    order="quantity desc",
                    limit=1,
                )
                location = quant.location_id or location
            key = (lot, location)
            shipped.setdefault(move, {})
            shipped[move][key] = shipped[move].get(key, 0.0) + quantity
            system._mfg_check_on_hand(
                product,
                location,
                lot,
                move.product_uom._compute_quantity(shipped[move][key], product.uom_id),
                f"{path}/quantity",
            )
        return shipped
