from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_round

from odoo.addons.mfg_integration.exceptions import MfgBusinessError
from odoo.addons.mfg_integration.lib.timeconv import to_rfc3339
from odoo.addons.mfg_integration_mrp.models.mrp_production import OPEN_STATES

from ..lib import compare
from .mfg_integration_system import expected_quantity

KINDS = [
    (compare.MISSING_IN_ODOO, "Missing in Odoo"),
    (compare.MISSING_IN_SYSTEM, "Missing in System"),
    (compare.QUANTITY, "Quantity"),
    (compare.STATUS, "Status"),
    (compare.LOT, "Lot"),
    (compare.DATE, "Date"),
]
MEASURES = [
    ("on_hand", "On hand"),
    ("produced", "Produced"),
    ("scrapped", "Scrapped"),
    ("status", "Status"),
    ("lots", "Lots"),
    ("open_quantity", "Open quantity"),
    ("promised_date", "Promised date"),
]


class MfgIntegrationReconciliationLine(models.Model):
    """One difference between a system's snapshot and Odoo, with both values, and how it was resolved.

    Nobody writes lines through the ORM (read-only access): they change only through the
    resolution actions, which record who resolved them, when and how.
    """

    _name = "mfg.integration.reconciliation.line"
    _description = "Reconciliation Difference"
    _order = "run_id desc, id"
    _rec_name = "reference"

    run_id = fields.Many2one(
        "mfg.integration.reconciliation.run", required=True, readonly=True, index=True, ondelete="cascade"
    )
    system_id = fields.Many2one(related="run_id.system_id", store=True, index=True)
    company_id = fields.Many2one(related="run_id.company_id", store=True, index=True)
    scope = fields.Selection(related="run_id.scope")
    as_of = fields.Datetime(related="run_id.as_of")
    kind = fields.Selection(KINDS, required=True, readonly=True)
    measure = fields.Selection(MEASURES, required=True, readonly=True)
    reference = fields.Char(
        readonly=True, help="The order, the location and material, or the purchase line the difference is about."
    )
    production_id = fields.Many2one("mrp.production", string="Manufacturing Order", readonly=True)
    purchase_line_id = fields.Many2one("purchase.order.line", readonly=True)
    location_id = fields.Many2one("stock.location", readonly=True)
    product_id = fields.Many2one("product.product", string="Material", readonly=True)
    lot_name = fields.Char(string="Odoo Lot", readonly=True)
    system_lot = fields.Char(readonly=True)
    odoo_value = fields.Char(readonly=True)
    system_value = fields.Char(readonly=True)
    odoo_quantity = fields.Float(digits="Product Unit of Measure", readonly=True)
    system_quantity = fields.Float(digits="Product Unit of Measure", readonly=True)
    note = fields.Char(readonly=True, help="Why the system's item could not be matched, when it could not.")
    state = fields.Selection(
        [
            ("open", "Open"),
            ("accepted", "System Value Accepted"),
            ("resent", "Odoo State Re-sent"),
            ("explained", "Explained"),
        ],
        default="open",
        required=True,
        readonly=True,
        index=True,
    )
    resolved_by_id = fields.Many2one("res.users", readonly=True)
    resolved_at = fields.Datetime(readonly=True)
    resolution_note = fields.Text(string="Resolution", readonly=True)

    def init(self):
        # The dashboard, /metrics and the SLA read open differences per system.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS mfg_integration_reconciliation_line_open_idx
                ON mfg_integration_reconciliation_line (system_id, create_date) WHERE state = 'open'
            """
        )

    # -- resolution actions (many lines at once, from the list) -------------------------

    def _check_resolvable(self):
        self.env["mfg.integration.message"]._check_manager()
        if not self:
            raise UserError(self.env._("Select the differences to resolve."))
        resolved = self.filtered(lambda line: line.state != "open")
        if resolved:
            raise UserError(
                self.env._(
                    "Already resolved: %(lines)s.", lines=", ".join(resolved.mapped(lambda line: line.display_name))
                )
            )

    def _resolve(self, state, notes):
        """Record the resolution of every line (``notes``: {line: text})."""
        now = fields.Datetime.now()
        for line in self:
            # sudo: lines are read-only for everyone; only these actions (manager checked
            # by _check_resolvable) record a resolution, with its author and time.
            line.sudo().write(
                {"state": state, "resolved_by_id": self.env.uid, "resolved_at": now, "resolution_note": notes[line]}
            )

    def action_accept_system_value(self):
        """Make Odoo match the system: inventory adjustments and production reports applied by the
        same handlers as the system's own events, as the current user."""
        self._check_resolvable()
        notes = {}
        for run in self.run_id:
            lines = self.filtered(lambda line, run=run: line.run_id == run)
            if run.scope == "inventory":
                notes.update(lines._accept_stock(run))
            elif run.scope == "purchase":
                notes.update(lines._accept_purchase(run))
            else:
                for line in lines:
                    notes[line] = line._accept_wip(run)
        self._resolve("accepted", notes)
        return True

    def _accept_stock(self, run):
        changes = defaultdict(float)  # (location, product, lot name) -> quantity to add
        for line in self:
            if not line.location_id or not line.product_id:
                raise UserError(
                    self.env._("%(line)s cannot be accepted: %(note)s", line=line.display_name, note=line.note)
                )
            if line.kind == compare.LOT:
                changes[(line.location_id, line.product_id, line.lot_name or "")] -= line.odoo_quantity
                changes[(line.location_id, line.product_id, line.system_lot or "")] += line.system_quantity
            else:
                lot = line.system_lot or line.lot_name or ""
                changes[(line.location_id, line.product_id, lot)] += line.system_quantity - line.odoo_quantity
        by_location = defaultdict(list)
        for (location, product, lot_name), change in changes.items():
            counted = _on_hand(location, product, lot_name) + change
            if counted < 0:
                raise UserError(
                    self.env._(
                        "Accepting would leave %(quantity)s of %(product)s (lot %(lot)s) at %(location)s: "
                        "stock moved since the snapshot; explain or re-send instead.",
                        quantity=counted,
                        product=product._mfg_code(),
                        lot=lot_name or "-",
                        location=location.complete_name,
                    )
                )
            by_location[location].append(
                dict(
                    {"material": product._mfg_code(), "counted_quantity": counted},
                    **({"lot": lot_name} if lot_name else {}),
                )
            )
        note = ""
        for location, count_lines in by_location.items():
            data = {"location": location.barcode or location.complete_name, "lines": count_lines}
            try:
                result = self.env["stock.quant"]._mfg_handle_count_reported(run.message_id, data)
            except MfgBusinessError as error:
                raise UserError(
                    self.env._(
                        "%(location)s cannot be adjusted: %(error)s",
                        location=location.complete_name,
                        error=error.args[0],
                    )
                ) from error
            note += self.env._(
                "Inventory adjustment at %(location)s: %(lines)s\n",
                location=location.complete_name,
                lines=", ".join(
                    f"{line['material']} {line['lot'] or ''} {line['on_hand']}" for line in result["lines"]
                ),
            )
        return dict.fromkeys(self, note.strip())

    def _accept_purchase(self, run):
        """Record the supplier's promised quantities and dates as its acknowledgement of each order,
        through the acknowledgement handler (chatter note and buyer activity as for the event)."""
        cannot = self.filtered(
            lambda line: line.kind not in (compare.QUANTITY, compare.DATE) or not line.purchase_line_id
        )
        if cannot:
            raise UserError(
                self.env._(
                    "%(lines)s: Odoo cannot take the supplier's value of a line one side does not have; "
                    "re-send Odoo's state or explain.",
                    lines=", ".join(cannot.mapped("display_name")),
                )
            )
        promises = defaultdict(dict)  # purchase line -> acknowledged values
        for line in self:
            purchase_line = line.purchase_line_id
            if line.kind == compare.DATE:
                promises[purchase_line]["promised_date"] = line.system_value
            else:
                # Received at as_of (expected minus Odoo's open quantity) plus what the supplier still owes.
                promises[purchase_line]["quantity"] = float_round(
                    expected_quantity(purchase_line) - line.odoo_quantity + line.system_quantity,
                    precision_rounding=purchase_line.product_uom.rounding,
                )
        notes = {}
        for order in self.purchase_line_id.order_id:
            # One item per line of the order, in its order: the handler pairs items with lines of the
            # same material in that order, so the promise lands on the line of the difference.
            items = [
                {
                    "material": order_line.product_id._mfg_supplier_code(order.partner_id)
                    or order_line.product_id._mfg_code(),
                    **promises.get(order_line, {}),
                }
                for order_line in order.order_line.filtered(lambda order_line: not order_line.display_type)
            ]
            data = {
                "purchase_order": order.name,
                "status": "changed",
                "lines": items,
                "note": self.env._("Accepted from reconciliation %(run)s.", run=run.name),
            }
            try:
                self.env["purchase.order"]._mfg_handle_order_acknowledged(run.message_id, data)
            except MfgBusinessError as error:
                raise UserError(
                    self.env._("%(order)s cannot be acknowledged: %(error)s", order=order.name, error=error.args[0])
                ) from error
            for line in self.filtered(lambda line, order=order: line.purchase_line_id.order_id == order):
                notes[line] = self.env._(
                    "Acknowledgement recorded on %(order)s: %(values)s",
                    order=order.name,
                    values=", ".join(f"{name} {value}" for name, value in promises[line.purchase_line_id].items()),
                )
        return notes

    def _accept_wip(self, run):
        self.ensure_one()
        production = self.production_id
        now = fields.Datetime.now()
        try:
            if (
                self.kind == compare.QUANTITY
                and self.measure == "produced"
                and self.system_quantity > self.odoo_quantity
            ):
                data = {
                    "production_order": production.name,
                    "quantity": self.system_quantity - self.odoo_quantity,
                    "occurred_at": to_rfc3339(now),
                }
                lot = production.lot_producing_id.name or self.system_lot
                if production.product_id.tracking != "none" and lot:
                    data["lot"] = lot
                self.env["mrp.production"]._mfg_handle_performance_reported(run.message_id, data)
                return self.env._("Production report of %(quantity)s applied.", quantity=data["quantity"])
            if self.kind == compare.STATUS and production.state in OPEN_STATES:
                if self.system_value == "completed":
                    production._mfg_close(now)
                    return self.env._("Order closed.")
                if self.system_value == "cancelled":
                    production.action_cancel()
                    return self.env._("Order cancelled.")
        except MfgBusinessError as error:
            raise UserError(
                self.env._("%(line)s cannot be accepted: %(error)s", line=self.display_name, error=error.args[0])
            ) from error
        raise UserError(
            self.env._(
                "%(line)s: Odoo cannot take the system's value (%(kind)s, %(measure)s); "
                "re-send Odoo's state or explain.",
                line=self.display_name,
                kind=dict(KINDS)[self.kind],
                measure=dict(MEASURES)[self.measure],
            )
        )

    def action_resend_odoo_state(self):
        """Send Odoo's current state of the lines' orders or materials to the system (outbox)."""
        self._check_resolvable()
        notes = {}
        for run in self.run_id:
            lines = self.filtered(lambda line, run=run: line.run_id == run)
            if run.scope == "wip":
                only = set(lines.mapped("reference"))
            elif run.scope == "purchase":
                only = set(lines.purchase_line_id.ids)
            else:
                only = {(line.location_id.id, line.product_id.id) for line in lines if line.location_id}
            messages = run.system_id._mfg_publish_snapshot(run.scope, only=only)
            if not messages:
                raise UserError(
                    self.env._(
                        "No active endpoint of %(system)s subscribes to Odoo's snapshots: nothing can be re-sent.",
                        system=run.system_id.display_name,
                    )
                )
            notes.update(
                dict.fromkeys(
                    lines, self.env._("Re-sent in message(s) %(ids)s.", ids=", ".join(map(str, messages.ids)))
                )
            )
        self._resolve("resent", notes)
        return True

    def action_open_explain(self):
        self._check_resolvable()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Mark Explained"),
            "res_model": "mfg.integration.reconciliation.explain.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_line_ids": [(6, 0, self.ids)]},
        }

    def _explain(self, reason):
        self._check_resolvable()
        self._resolve("explained", dict.fromkeys(self, reason))

    # -- monitoring ---------------------------------------------------------------------------

    @api.model
    def _open_by_system(self, company_ids, older_than=None):
        """{system_id: (open differences, oldest create_date)} for the companies."""
        self.flush_model()
        domain = [("state", "=", "open"), ("company_id", "in", list(company_ids))]
        if older_than:
            domain.append(("create_date", "<", older_than))
        return {
            system.id: (count, oldest)
            # sudo: counts only, of the companies the caller is allowed (its own or the API key user's).
            for system, count, oldest in self.sudo()._read_group(domain, ["system_id"], ["__count", "create_date:min"])
        }


def _on_hand(location, product, lot_name):
    """What the count handler adjusts: the quant without package or owner of that lot."""
    Lot = location.env["stock.lot"]
    lot = Lot.search([("product_id", "=", product.id), ("name", "=", lot_name)], limit=1) if lot_name else Lot
    if lot_name and not lot:
        return 0.0
    quants = location.env["stock.quant"]._gather(product, location, lot_id=lot, strict=True)
    return quants.filtered(lambda quant: not quant.package_id and not quant.owner_id)[:1].quantity
