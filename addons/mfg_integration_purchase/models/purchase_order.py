import logging
from datetime import datetime, time

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.tools import float_compare, format_list

from odoo.addons.mfg_integration.exceptions import MfgBusinessError, MfgUnknownCode
from odoo.addons.mfg_integration.lib.payload import log_safe
from odoo.addons.mfg_integration.lib.timeconv import parse_rfc3339, to_rfc3339
from odoo.addons.mfg_integration_stock.lib.results import records_result

_logger = logging.getLogger(__name__)

CONFIRMED_STATES = ("purchase", "done")
EVENT_CONFIRMED = "mfg.purchase_order.confirmed.v1"
EVENT_CHANGED = "mfg.purchase_order.changed.v1"
EVENT_CANCELLED = "mfg.purchase_order.cancelled.v1"


def parse_date_or_datetime(text, path, default_time=None):
    """Naive UTC datetime from an RFC 3339 date-time or a plain date (YYYY-MM-DD)."""
    try:
        if "T" in text.upper():
            return parse_rfc3339(text)
        day = fields.Date.to_date(text)
    except ValueError as error:
        raise MfgBusinessError(
            _("%(value)r is neither a date (YYYY-MM-DD) nor an RFC 3339 date-time.", value=text), path=path
        ) from error
    return datetime.combine(day, default_time or time(12, 0))


class PurchaseOrder(models.Model):
    _name = "purchase.order"
    _inherit = ["purchase.order", "mfg.integration.record.mixin"]

    mfg_supplier_system_id = fields.Many2one(
        "mfg.integration.system",
        string="Supplier System",
        compute="_compute_mfg_supplier_system_id",
        help="The supplier's portal or EDI gateway that hears about this order.",
    )
    mfg_ack_state = fields.Selection(
        [("accepted", "Accepted"), ("changed", "Accepted with changes"), ("rejected", "Rejected")],
        string="Supplier Acknowledgement",
        copy=False,
        readonly=True,
        tracking=True,
        help="Latest answer of the supplier's system to this order.",
    )
    mfg_ack_date = fields.Datetime(string="Acknowledged On", copy=False, readonly=True)
    mfg_ack_note = fields.Text(string="Supplier Note", copy=False, readonly=True)
    mfg_ack_qty_mismatch = fields.Boolean(
        string="Supplier Quantity Differs",
        compute="_compute_mfg_ack_qty_mismatch",
        search="_search_mfg_ack_qty_mismatch",
        help="The supplier promised another quantity than ordered on at least one line.",
    )

    @api.depends("partner_id", "partner_id.mfg_system_id", "partner_id.commercial_partner_id.mfg_system_id")
    def _compute_mfg_supplier_system_id(self):
        for order in self:
            order.mfg_supplier_system_id = order.partner_id and order.partner_id._mfg_supplier_system()

    @api.depends("order_line.mfg_promised_qty_differs")
    def _compute_mfg_ack_qty_mismatch(self):
        for order in self:
            order.mfg_ack_qty_mismatch = any(order.order_line.mapped("mfg_promised_qty_differs"))

    @api.model
    def _search_mfg_ack_qty_mismatch(self, operator, value):
        if operator not in ("=", "!="):
            raise NotImplementedError(_("Only = and != are supported."))
        lines = self.env["purchase.order.line"].search([("mfg_promised_qty_differs", "=", True)])
        positive = (operator == "=") == bool(value)
        return [("id", "in" if positive else "not in", lines.order_id.ids)]

    def _mfg_warehouse(self):
        """The receiving plant (mfg_integration_stock's plant routing)."""
        self.ensure_one()
        return self.picking_type_id.warehouse_id

    # -- outbound ------------------------------------------------------------

    def button_approve(self, force=False):
        confirmed_before = self.filtered(lambda order: order.state in CONFIRMED_STATES)
        result = super().button_approve(force=force)
        (self.filtered(lambda order: order.state in CONFIRMED_STATES) - confirmed_before)._mfg_emit(EVENT_CONFIRMED)
        return result

    def button_cancel(self):
        was_confirmed = self.filtered(lambda order: order.state in CONFIRMED_STATES)
        result = super().button_cancel()
        was_confirmed.filtered(lambda order: order.state == "cancel")._mfg_emit(EVENT_CANCELLED)
        return result

    def _mfg_emit(self, event_type_code):
        Message = self.env["mfg.integration.message"]
        for order in self:
            if not order.partner_id._mfg_supplier_system():
                continue
            Message.emit(event_type_code, order, order._mfg_order_payload, subject=order.name)

    def _mfg_order_payload(self):
        """The order as the supplier's system receives it."""
        self.ensure_one()
        supplier = self.partner_id.commercial_partner_id
        warehouse = self.picking_type_id.warehouse_id
        ship_to = self.dest_address_id or warehouse.partner_id or self.company_id.partner_id
        return {
            "purchase_order": self.name,
            "supplier_reference": self.partner_ref or None,
            "state": self.state,
            "supplier": {"code": supplier.ref or supplier.name, "name": supplier.name},
            "buyer": {"name": self.user_id.name or "", "email": self.user_id.email or None},
            "order_date": to_rfc3339(self.date_approve or self.date_order),
            "currency": self.currency_id.name,
            "lines": [line._mfg_line_payload() for line in self.order_line if not line.display_type],
            "ship_to": {
                "plant": warehouse.code or None,
                "address": {
                    "name": ship_to.name or "",
                    "street": ship_to.street or None,
                    "street2": ship_to.street2 or None,
                    "zip": ship_to.zip or None,
                    "city": ship_to.city or None,
                    "state": ship_to.state_id.code or None,
                    "country": ship_to.country_id.code or None,
                },
            },
        }

    # -- inbound: shared ---------------------------------------------------

    @api.model
    def _mfg_order_for_system(self, system, reference, path="/purchase_order"):
        """The confirmed order ``reference`` of a supplier linked to ``system``."""
        order = self.search([("name", "=", reference), ("company_id", "=", system.company_id.id)], limit=1)
        if not order or order.partner_id._mfg_supplier_system() != system:
            raise MfgBusinessError(
                _(
                    "Purchase order %(order)s is not an order of a supplier linked to system %(system)s.",
                    order=reference,
                    system=system.code,
                ),
                path=path,
            )
        if order.state not in CONFIRMED_STATES:
            raise MfgBusinessError(
                _("Purchase order %(order)s is not confirmed (state: %(state)s).", order=order.name, state=order.state),
                path=path,
            )
        return order

    def _mfg_product_for_material(self, system, code, path):
        """The product of this order that the supplier calls ``code``: the supplier's product code on
        the vendor line first, then the system's code (mapping, else our internal reference or barcode)."""
        self.ensure_one()
        products = self.order_line.filtered(lambda line: not line.display_type).product_id
        for product in products:
            if product._mfg_supplier_code(self.partner_id) == code:
                return product
        try:
            # sudo: code mappings are integration configuration the technical user may not read.
            product = self.env["mfg.integration.code.mapping"].sudo().resolve(system, "product", code, path=path)
        except MfgUnknownCode as error:
            raise MfgBusinessError(
                _("Material %(code)r is not on purchase order %(order)s.", code=code, order=self.name), path=path
            ) from error
        product = self.env["product.product"].browse(product.id)
        if product not in products:
            raise MfgBusinessError(
                _(
                    "Material %(code)r (%(product)s) is not on purchase order %(order)s.",
                    code=code,
                    product=product.display_name,
                    order=self.name,
                ),
                path=path,
            )
        return product

    def _mfg_uom_for_code(self, system, code, path):
        # sudo: see _mfg_product_for_material
        uom = self.env["mfg.integration.code.mapping"].sudo().resolve(system, "uom", code, path=path)
        return self.env["uom.uom"].browse(uom.id)

    def _mfg_buyer(self, system):
        """Who acts on the supplier's answer: the order's buyer, else the supplier system's responsible."""
        self.ensure_one()
        return self.user_id or system.responsible_user_id or self.env.user

    # -- inbound: acknowledgement --------------------------------------------

    @api.model
    def _mfg_handle_order_acknowledged(self, message, data):
        """mfg.supplier.order_acknowledged.v1: the supplier accepts, changes or rejects an order."""
        system = message.system_id
        order = self._mfg_order_for_system(system, data["purchase_order"])
        status = data["status"]
        note = data.get("note") or ""
        updates, differences, used_lines = [], [], self.env["purchase.order.line"]
        for index, item in enumerate(data.get("lines") or [] if status != "rejected" else []):
            path = f"/lines/{index}"
            product = order._mfg_product_for_material(system, item["material"], f"{path}/material")
            candidates = order.order_line.filtered(lambda line, p=product: line.product_id == p) - used_lines
            if not candidates:
                raise MfgBusinessError(
                    _(
                        "Material %(code)r is acknowledged more often than it is ordered on %(order)s.",
                        code=item["material"],
                        order=order.name,
                    ),
                    path=f"{path}/material",
                )
            line = candidates[0]
            used_lines |= line
            vals = {}
            if item.get("promised_date"):
                current = line.date_planned
                promised = parse_date_or_datetime(
                    item["promised_date"], f"{path}/promised_date", current.time() if current else None
                )
                vals.update(mfg_promised_date=promised, date_planned=promised)
            if "quantity" in item:
                vals["mfg_promised_qty"] = item["quantity"]
                if float_compare(item["quantity"], line.product_qty, precision_rounding=line.product_uom.rounding):
                    differences.append((line, item["quantity"]))
            if vals:
                updates.append((line, vals))
        for line, vals in updates:
            line.with_context(mfg_from_supplier=True).write(vals)
            if "date_planned" in vals:
                line.move_ids.filtered(lambda move: move.state not in ("done", "cancel")).date = vals["date_planned"]
        order.write({"mfg_ack_state": status, "mfg_ack_date": fields.Datetime.now(), "mfg_ack_note": note or False})
        order._mfg_post_acknowledgement(system, status, note, updates, differences)
        return records_result(order)

    def _mfg_post_acknowledgement(self, system, status, note, updates, differences):
        self.ensure_one()
        labels = dict(self._fields["mfg_ack_state"]._description_selection(self.env))
        items = []
        for line, vals in updates:
            parts = []
            if vals.get("mfg_promised_date"):
                parts.append(_("promised for %(date)s", date=fields.Datetime.to_string(vals["mfg_promised_date"])))
            if "mfg_promised_qty" in vals:
                parts.append(_("quantity %(qty)s %(uom)s", qty=vals["mfg_promised_qty"], uom=line.product_uom.name))
            items.append(Markup("<li>%s: %s</li>") % (line.product_id.display_name, ", ".join(parts)))
        body = Markup("<p>%s</p>") % _("Order %(status)s.", status=labels[status].lower())
        if note:
            body += Markup("<p>%s</p>") % note
        if items:
            body += Markup("<ul>%s</ul>") % Markup("").join(items)
        activity = None
        if status == "rejected":
            activity = {
                "user_id": self._mfg_buyer(system).id,
                "summary": _("Supplier rejected %(order)s", order=self.name),
                "note": note or _("The supplier's system rejected the order without a note."),
            }
        elif differences:
            lines = Markup("").join(
                Markup("<li>%s</li>")
                % self.env._(
                    "%(product)s: ordered %(ordered)s, promised %(promised)s %(uom)s",
                    product=line.product_id.display_name,
                    ordered=line.product_qty,
                    promised=promised,
                    uom=line.product_uom.name,
                )
                for line, promised in differences
            )
            activity = {
                "user_id": self._mfg_buyer(system).id,
                "summary": _("Supplier quantities differ on %(order)s", order=self.name),
                "note": Markup("<p>%s</p><ul>%s</ul>")
                % (_("The supplier promised other quantities; the order was not changed:"), lines),
            }
        system._post_on(self, body, activity)

    # -- inbound: advance shipping notice ------------------------------------

    @api.model
    def _mfg_handle_shipment_notified(self, message, data):
        """mfg.supplier.shipment_notified.v1: pre-fill the receipt with the announced quantities and lots."""
        system = message.system_id
        order = self._mfg_order_for_system(system, data["purchase_order"])
        asn = data["asn_number"]
        receipts = order.picking_ids.filtered(
            lambda picking: (
                picking.picking_type_code == "incoming"
                and picking.state not in ("done", "cancel")
                and picking.location_id.usage == "supplier"
            )
        )
        if not receipts:
            raise MfgBusinessError(
                _("Purchase order %(order)s has no receipt waiting.", order=order.name), path="/purchase_order"
            )
        if order.picking_ids.move_line_ids.filtered(lambda line: line.mfg_asn_number == asn):
            raise MfgBusinessError(
                _("Shipping notice %(asn)s was already applied to %(order)s.", asn=asn, order=order.name),
                path="/asn_number",
            )
        expected = parse_date_or_datetime(data["expected_arrival"], "/expected_arrival")
        remaining = order._mfg_open_quantities(receipts)
        plans = []
        for index, item in enumerate(data["lines"]):
            path = f"/lines/{index}"
            product = order._mfg_product_for_material(system, item["material"], f"{path}/material")
            line_uom = order.order_line.filtered(lambda line, p=product: line.product_id == p)[:1].product_uom
            uom = order._mfg_uom_for_code(system, item["uom"], f"{path}/uom") if item.get("uom") else line_uom
            if uom.category_id != product.uom_id.category_id:
                raise MfgBusinessError(
                    _(
                        "Line %(line)s: unit %(uom)s does not measure %(product)s.",
                        line=index + 1,
                        uom=uom.name,
                        product=product.display_name,
                    ),
                    path=f"{path}/uom",
                )
            qty = uom._compute_quantity(item["quantity"], product.uom_id, rounding_method="HALF-UP")
            rounding = product.uom_id.rounding
            if float_compare(qty, remaining.get(product, 0.0), precision_rounding=rounding) > 0:
                raise MfgBusinessError(
                    _(
                        "Line %(line)s: %(qty)s %(uom)s of %(material)s is more than the %(open)s %(product_uom)s "
                        "still expected on %(order)s.",
                        line=index + 1,
                        qty=item["quantity"],
                        uom=uom.name,
                        material=item["material"],
                        open=max(remaining.get(product, 0.0), 0.0),
                        product_uom=product.uom_id.name,
                        order=order.name,
                    ),
                    path=f"{path}/quantity",
                )
            remaining[product] -= qty
            move = receipts.move_ids.filtered(
                lambda m, p=product: m.product_id == p and m.state not in ("done", "cancel")
            )[:1]
            if not move:
                raise MfgBusinessError(
                    _(
                        "Line %(line)s: no open receipt move for %(product)s.",
                        line=index + 1,
                        product=product.display_name,
                    ),
                    path=f"{path}/material",
                )
            lot = order._mfg_asn_lot(system, product, item, f"{path}/lot", qty)
            plans.append((move, qty, lot))

        # The quantities of an announced receipt come from the notices: drop the
        # automatic full-demand lines, keep what somebody already picked by hand.
        receipts.move_ids.move_line_ids.filtered(lambda line: not line.mfg_asn_number and not line.picked).unlink()
        MoveLine = self.env["stock.move.line"]
        for move, qty, lot in plans:
            vals = move._prepare_move_line_vals(quantity=qty)
            vals.update(mfg_asn_number=asn, lot_id=lot.id or False)
            MoveLine.create(vals)
        touched = self.env["stock.picking"].union(*(move.picking_id for move, _qty, _lot in plans))
        for picking in touched:
            picking.write(
                {
                    "scheduled_date": expected,
                    "mfg_asn_numbers": ", ".join(filter(None, [picking.mfg_asn_numbers, asn])),
                }
            )
            picking.move_ids.filtered(lambda m: m.state not in ("done", "cancel")).date = expected
            items = Markup("").join(
                Markup("<li>%s</li>")
                % self.env._(
                    "%(qty)s %(uom)s %(product)s%(lot)s",
                    qty=qty,
                    uom=move.product_id.uom_id.name,
                    product=move.product_id.display_name,
                    lot=self.env._(", lot %(lot)s", lot=lot.name) if lot else "",
                )
                for move, qty, lot in plans
                if move.picking_id == picking
            )
            system._post_on(
                picking,
                Markup("<p>%s</p><ul>%s</ul>")
                % (
                    _(
                        "Shipping notice %(asn)s, expected %(date)s:",
                        asn=asn,
                        date=fields.Datetime.to_string(expected),
                    ),
                    items,
                ),
            )
        _logger.info(
            "ASN %s pre-filled %s for %s",
            log_safe(asn),
            log_safe(format_list(self.env, touched.mapped("name"))),
            log_safe(order.name),
        )
        return records_result(touched)

    def _mfg_open_quantities(self, receipts):
        """Per product, in its own unit: ordered, minus received, minus already announced on open receipts."""
        self.ensure_one()
        remaining = {}
        for line in self.order_line.filtered(lambda line: line.product_id and not line.display_type):
            product = line.product_id
            open_qty = line.product_uom._compute_quantity(line.product_qty - line.qty_received, product.uom_id)
            remaining[product] = remaining.get(product, 0.0) + open_qty
        for move_line in receipts.move_line_ids.filtered("mfg_asn_number"):
            product = move_line.product_id
            if product in remaining:
                remaining[product] -= move_line.product_uom_id._compute_quantity(move_line.quantity, product.uom_id)
        return remaining

    def _mfg_asn_lot(self, system, product, item, path, qty):
        """The lot named on an ASN line, created when the product is tracked and the lot is new."""
        self.ensure_one()
        name = item.get("lot")
        if not name or product.tracking == "none":
            return self.env["stock.lot"]
        if product.tracking == "serial" and float_compare(qty, 1.0, precision_rounding=product.uom_id.rounding) != 0:
            raise MfgBusinessError(
                _(
                    "%(product)s is tracked by serial number: send one line of quantity 1 per serial number.",
                    product=product.display_name,
                ),
                path=path,
            )
        expiry = item.get("expiry_date")
        if expiry and "expiration_date" in self.env["stock.lot"]._fields:
            expiry = {"expiration_date": parse_date_or_datetime(expiry, path.replace("/lot", "/expiry_date"))}
        else:
            expiry = {}
        # The supplier names the lots it ships: a new lot is always created.
        lot = self.env["mfg.integration.code.mapping"]._resolve_lot(
            system, product, name, path, create=True, new_lot_values=expiry
        )
        if expiry and not lot.expiration_date:
            lot.expiration_date = expiry["expiration_date"]
        return lot
