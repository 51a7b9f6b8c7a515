import json
import uuid
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_round

from odoo.addons.mfg_integration.lib.timeconv import parse_rfc3339, to_rfc3339
from odoo.addons.mfg_integration_mrp.models.mrp_production import OPEN_STATES
from odoo.addons.mfg_integration_purchase.models.purchase_order import CONFIRMED_STATES

from ..lib import compare

PUBLISHED = {
    "wip": "mfg.production.wip_published.v1",
    "inventory": "mfg.inventory.snapshot_published.v1",
    "purchase": "mfg.purchase.open_lines_published.v1",
}
MEMBERS = {"wip": "orders", "inventory": "items", "purchase": "lines"}
PERFORMANCE_REPORTED = "mfg.production.performance_reported.v1"
PAGE_SIZE = 500
WIP_STATUS = {"confirmed": "released", "progress": "in_progress", "to_close": "in_progress", "done": "completed"}


def expected_quantity(purchase_line):
    """What a purchase line expects in all: the quantity the supplier acknowledged, else the ordered one
    (an acknowledged quantity of 0 counts as none, as on the purchase line's own flag)."""
    return purchase_line.mfg_promised_qty or purchase_line.product_qty


class MfgIntegrationSystem(models.Model):
    _inherit = "mfg.integration.system"

    mfg_snapshot_interval_hours = fields.Integer(
        string="Publish Snapshots Every (h)",
        help="Odoo publishes its work in progress and on-hand stock to this system's endpoints subscribed "
        "to the snapshot events every so many hours. 0: only on demand.",
    )
    mfg_promised_date_tolerance_days = fields.Integer(
        string="Promised Date Tolerance (days)",
        help="Open purchase line snapshots: a promised date at most this many days from the line's expected "
        "date is no difference.",
    )
    mfg_snapshot_published_at = fields.Datetime(string="Last Snapshot Published", readonly=True)
    mfg_reconciliation_run_ids = fields.One2many(
        "mfg.integration.reconciliation.run", "system_id", string="Reconciliations"
    )
    mfg_open_difference_count = fields.Integer(compute="_compute_mfg_open_difference_count", string="Open Differences")

    def _compute_mfg_open_difference_count(self):
        counts = self.env["mfg.integration.reconciliation.line"]._open_by_system(self.company_id.ids)
        for system in self:
            system.mfg_open_difference_count = counts.get(system.id, (0, None))[0]

    def action_view_mfg_differences(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mfg_integration_reconciliation.mfg_integration_reconciliation_line_action"
        )
        action["domain"] = [("system_id", "=", self.id)]
        return action

    # -- Odoo's view of the shared state, at a moment ---------------------------------------

    def _mfg_wip_productions(self, as_of, references=()):
        """Orders of this system's company and plant open at ``as_of``, and those named ``references``."""
        self.ensure_one()
        domain = [("company_id", "=", self.company_id.id)]
        if self.warehouse_id:
            domain.append(("picking_type_id.warehouse_id", "=", self.warehouse_id.id))
        open_then = [
            ("create_date", "<=", as_of),
            "|",
            ("state", "in", OPEN_STATES),
            "&",
            ("state", "=", "done"),
            ("date_finished", ">", as_of),
        ]
        Production = self.env["mrp.production"].with_company(self.company_id)
        named = Production.search([*domain, ("name", "in", list(references))]) if references else Production
        return Production.search(domain + open_then) | named

    def _mfg_wip_states(self, productions, as_of):
        """{reference: WipState} of ``productions`` at ``as_of``: production reported after it is
        taken off, scrap done after it is not counted."""
        self.ensure_one()
        reported_after = self._mfg_reported_after(productions, as_of)
        states = {}
        for production in productions:
            done_then = production.state == "done" and production.date_finished <= as_of
            produced = production.qty_produced if production.state == "done" else production.qty_producing
            produced -= reported_after.get(production.name, 0.0)
            if production.state == "cancel":
                status = "cancelled"
            elif production.state == "done" and not done_then:
                status = "in_progress"
            else:
                status = WIP_STATUS.get(production.state, production.state)
            finished_lines = production.move_finished_ids.filtered(
                lambda move, production=production: move.product_id == production.product_id and move.state == "done"
            ).move_line_ids.filtered(lambda line: line.date <= as_of)
            lots = set(finished_lines.lot_id.mapped("name"))
            if produced > 0 and production.lot_producing_id:
                lots.add(production.lot_producing_id.name)
            states[production.name] = compare.WipState(
                status,
                float_round(max(produced, 0.0), precision_rounding=production.product_uom_id.rounding),
                sum(
                    scrap.scrap_qty
                    for scrap in production.scrap_ids
                    if scrap.state == "done" and (scrap.date_done or as_of) <= as_of
                ),
                frozenset(lots),
            )
        return states

    def _mfg_reported_after(self, productions, as_of):
        """{reference: quantity} the shop floor reported as produced after ``as_of``."""
        if not productions:
            return {}
        # sudo: the applied production reports of the same company are read for their quantities only.
        messages = (
            self.env["mfg.integration.message"]
            .sudo()
            .search(
                [
                    ("direction", "=", "inbound"),
                    ("state", "=", "done"),
                    ("company_id", "=", self.company_id.id),
                    ("event_type_id.code", "=", PERFORMANCE_REPORTED),
                    ("res_model", "=", "mrp.production"),
                    ("res_id", "in", productions.ids),
                ]
            )
        )
        reported = {}
        for message in messages:
            data = json.loads(message.payload)["data"]
            if parse_rfc3339(data["occurred_at"]) > as_of:
                reported[data["production_order"]] = reported.get(data["production_order"], 0.0) + data["quantity"]
        return reported

    def _mfg_stock_locations(self):
        """The internal locations this system's snapshots cover: its plant's, else its company's."""
        self.ensure_one()
        domain = [("usage", "=", "internal"), ("company_id", "=", self.company_id.id)]
        if self.warehouse_id:
            domain.append(("warehouse_id", "=", self.warehouse_id.id))
        return self.env["stock.location"].search(domain)

    def _mfg_stock_view(self, as_of, locations):
        """{(location id, product id, lot name): on hand at ``as_of``} in ``locations``: the current
        quants minus the done movements after ``as_of``."""
        self.ensure_one()
        current = {
            (location.id, product.id, lot.name or ""): quantity
            for location, product, lot, quantity in self.env["stock.quant"]._read_group(
                [("location_id", "in", locations.ids), ("product_id.is_storable", "=", True)],
                ["location_id", "product_id", "lot_id"],
                ["quantity:sum"],
            )
        }
        ids = set(locations.ids)
        move_lines = self.env["stock.move.line"].search(
            [
                ("state", "=", "done"),
                ("date", ">", as_of),
                ("product_id.is_storable", "=", True),
                "|",
                ("location_id", "in", locations.ids),
                ("location_dest_id", "in", locations.ids),
            ]
        )
        moves_after = [
            (
                (line.location_id.id, line.product_id.id, line.lot_id.name or "")
                if line.location_id.id in ids
                else None,
                (line.location_dest_id.id, line.product_id.id, line.lot_id.name or "")
                if line.location_dest_id.id in ids
                else None,
                line.quantity_product_uom,
            )
            for line in move_lines
        ]
        return compare.stock_at(current, moves_after)

    def _mfg_lot_name(self, product, code):
        """The Odoo lot name a system's lot code stands for: its lot mapping, else the code itself."""
        if not code or product.tracking == "none":
            return ""
        # sudo: mappings are integration configuration, read for this system only.
        mapping = (
            self.env["mfg.integration.code.mapping"]
            .sudo()
            .search([("system_id", "=", self.id), ("kind", "=", "lot"), ("external_code", "=", code)], limit=1)
        )
        return mapping.target_ref.name if mapping and mapping.target_ref.product_id == product else code

    def _mfg_open_purchase_lines(self, as_of, line_ids=()):
        """Goods lines of the orders of this system's suppliers, company and plant, confirmed by ``as_of`` and
        possibly still open then (not fully received, or received since), and the lines ``line_ids``."""
        self.ensure_one()
        domain = [
            ("company_id", "=", self.company_id.id),
            ("display_type", "=", False),
            ("product_id.type", "=", "consu"),  # goods: services are not received against receipts
            ("order_id.state", "in", CONFIRMED_STATES),
            "|",
            ("order_id.partner_id.mfg_system_id", "=", self.id),
            ("order_id.partner_id.commercial_partner_id.mfg_system_id", "=", self.id),
        ]
        if self.warehouse_id:
            domain.append(("order_id.picking_type_id.warehouse_id", "=", self.warehouse_id.id))
        open_then = [
            ("order_id.date_approve", "<=", as_of),
            "|",
            ("order_id.receipt_status", "!=", "full"),
            ("move_ids.date", ">", as_of),
        ]
        Line = self.env["purchase.order.line"].with_company(self.company_id)
        named = Line.search([*domain, ("id", "in", list(line_ids))]) if line_ids else Line
        return Line.search(domain + open_then) | named

    def _mfg_purchase_open_at(self, lines, as_of):
        """{line id: expected minus received at ``as_of``} (receipts done after it are not received
        then, returns done after it not returned), in the line's unit."""
        open_quantities = {}
        for line in lines:
            received = line.qty_received
            for move in line.move_ids.filtered(lambda move: move.state == "done" and move.date > as_of):
                quantity = move.product_uom._compute_quantity(move.quantity, line.product_uom)
                received += quantity if move.location_dest_id.usage == "supplier" else -quantity
            open_quantities[line.id] = float_round(
                max(expected_quantity(line) - received, 0.0), precision_rounding=line.product_uom.rounding
            )
        return open_quantities

    # -- snapshots out ---------------------------------------------------------------------------

    def _mfg_snapshot_items(self, scope, now, only=None):
        """Odoo's current items of ``scope`` as the snapshot events carry them (``only``: the
        references, or (location id, product id) pairs, to send)."""
        self.ensure_one()
        if scope == "wip":
            productions = self._mfg_wip_productions(now)
            if only is not None:
                productions = productions.filtered(lambda production: production.name in only)
            states = self._mfg_wip_states(productions, now)
            return [
                {
                    "production_order": production.name,
                    "product": production.product_id._mfg_code(),
                    "status": states[production.name].status,
                    "quantity": production.product_qty,
                    "produced_quantity": states[production.name].produced,
                    "scrapped_quantity": states[production.name].scrapped,
                    "uom": production.product_uom_id.name,
                    "lots": sorted(states[production.name].lots),
                }
                for production in productions.sorted("name")
            ]
        if scope == "purchase":
            return self._mfg_open_line_items(now, only)
        Location, Product = self.env["stock.location"], self.env["product.product"]
        items = []
        for (location_id, product_id, lot), quantity in sorted(
            self._mfg_stock_view(now, self._mfg_stock_locations()).items()
        ):
            if not quantity or (only is not None and (location_id, product_id) not in only):
                continue
            location, product = Location.browse(location_id), Product.browse(product_id)
            items.append(
                {
                    "location": location.barcode or location.complete_name,
                    "material": product._mfg_code(),
                    "lot": lot or None,
                    "quantity": quantity,
                    "uom": product.uom_id.name,
                }
            )
        return items

    def _mfg_open_line_items(self, now, only=None):
        """Odoo's open purchase lines of this system's suppliers (``only``: the line ids to send)."""
        lines = self._mfg_open_purchase_lines(now, only or ())
        open_now = self._mfg_purchase_open_at(lines, now)
        return [
            {
                "purchase_order": line.order_id.name,
                "line": line.id,
                "material": line.product_id._mfg_code(),
                "ordered_quantity": line.product_qty,
                "promised_quantity": line.mfg_promised_qty or None,
                "open_quantity": open_now[line.id],
                "unit": line.product_uom.name,
                "expected_date": fields.Date.to_string(line.date_planned),
                "promised_date": fields.Date.to_string(line.mfg_promised_date) or None,
            }
            for line in lines.sorted(lambda line: (line.order_id.name, line.sequence, line.id))
            if (only is None and open_now[line.id] > 0) or (only is not None and line.id in only)
        ]

    def _mfg_publish_snapshot(self, scope, only=None):
        """Emit Odoo's view of ``scope`` to this system's subscribed endpoints, in pages; the messages."""
        self.ensure_one()
        Message = self.env["mfg.integration.message"]
        code = PUBLISHED[scope]
        # sudo: which endpoints of this system subscribe is integration configuration.
        endpoints = self.sudo().endpoint_ids.filtered(
            lambda endpoint: code in endpoint.subscription_ids.event_type_id.mapped("code")
        )
        if not endpoints:
            return Message
        now = fields.Datetime.now()
        snapshot_id = str(uuid.uuid4())
        chunks = compare.pages(self._mfg_snapshot_items(scope, now, only), PAGE_SIZE)
        member = MEMBERS[scope]
        messages = Message
        for number, chunk in enumerate(chunks, start=1):
            data = {
                "snapshot_id": snapshot_id,
                "as_of": to_rfc3339(now),
                "page": number,
                "pages": len(chunks),
                "plant": self.warehouse_id.code or None,
                "partial": only is not None,
                member: chunk,
            }
            messages |= Message.emit(
                code, self, data, endpoints=endpoints, subject=f"{self.code} {snapshot_id} {number}/{len(chunks)}"
            )
        return messages

    def action_mfg_publish_snapshots(self):
        """On demand, from the system form: publish work in progress and stock now."""
        self.env["mfg.integration.message"]._check_manager()
        messages = self.env["mfg.integration.message"]
        for system in self:
            messages |= system._mfg_publish_all()
        if not messages:
            raise UserError(self.env._("No active endpoint of this system subscribes to Odoo's snapshot events."))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": self.env._("%(count)s snapshot message(s) queued.", count=len(messages)),
                "type": "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _mfg_publish_all(self):
        self.ensure_one()
        messages = self.env["mfg.integration.message"]
        for scope in PUBLISHED:
            messages |= self._mfg_publish_snapshot(scope)
        # sudo: the publication time is bookkeeping of the schedule, written by the action or the cron.
        self.sudo().mfg_snapshot_published_at = fields.Datetime.now()
        return messages

    @api.model
    def _cron_mfg_publish_snapshots(self):
        """Publish the snapshots of every system whose interval has passed."""
        now = fields.Datetime.now()
        for system in self.search([("mfg_snapshot_interval_hours", ">", 0)]):
            last = system.mfg_snapshot_published_at
            if not last or last + timedelta(hours=system.mfg_snapshot_interval_hours) <= now:
                system.with_company(system.company_id)._mfg_publish_all()
