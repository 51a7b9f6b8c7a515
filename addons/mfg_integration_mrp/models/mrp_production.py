from collections import defaultdict
from typing import NamedTuple

from odoo import api, fields, models
from odoo.tools import float_compare, float_round

from odoo.addons.mfg_integration.exceptions import MfgBusinessError
from odoo.addons.mfg_integration.lib.timeconv import parse_rfc3339, to_rfc3339

RELEASED = "mfg.production_order.released.v1"
COMPLETED = "mfg.production_order.completed.v1"
CANCELLED = "mfg.production_order.cancelled.v1"
CHANGED = "mfg.production_order.changed.v1"
STARTED = "mfg.production_order.started.v1"
# Fields of a released order the shop floor must hear about, by their name in the events.
CHANGE_FIELDS = {"product_qty": "quantity", "date_start": "planned_start", "date_finished": "planned_end"}
OPEN_STATES = ("confirmed", "progress", "to_close")
# The context naming the inbound event a change comes from (see the inbox's _inbound_apply).
CAUSES = ("mfg_correlation_id", "mfg_causation_id")


class MrpProduction(models.Model):
    _name = "mrp.production"
    _inherit = ["mrp.production", "mfg.integration.record.mixin"]

    mfg_reported_qty = fields.Float(
        string="Reported by the Shop Floor",
        digits="Product Unit of Measure",
        copy=False,
        readonly=True,
        help="Finished quantity reported so far by the shop floor's production reports.",
    )
    mfg_released_name = fields.Char(
        string="Name Released to the Shop Floor",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="The order's name when it was released: the shop floor keeps reporting under it after Odoo "
        "renames a split order (e.g. WH/MO/00012 becoming WH/MO/00012-001).",
    )
    mfg_backorder_of_id = fields.Many2one(
        "mrp.production",
        string="Backorder Of",
        copy=False,
        readonly=True,
        help="The order this one was split from (closing short, or one serial at a time).",
    )

    def _mfg_warehouse(self):
        return self.picking_type_id.warehouse_id

    # -- outbound: emitted on the state transitions themselves -------------------------

    def action_confirm(self):
        drafts = self.filtered(lambda production: production.state == "draft")
        # Inside a transition Odoo rewrites dates and quantities itself: not a change to announce.
        result = super(MrpProduction, self.with_context(mfg_transition=True)).action_confirm()
        drafts.filtered(lambda production: production.state in OPEN_STATES)._mfg_release()
        return result

    def _mfg_release(self):
        """Send the job orders of ``self``: the name they go out under is the one the shop floor reports with."""
        for production in self:
            production.with_context(mfg_transition=True).mfg_released_name = production.name
            self.env["mfg.integration.message"].emit(RELEASED, production, production._mfg_order_data)

    def _split_productions(self, amounts=False, cancel_remaining_qty=False, set_consumed_qty=False):
        # A split order (backorder) is a new job order for the shop floor, linked to the one it came from.
        productions = super()._split_productions(
            amounts=amounts, cancel_remaining_qty=cancel_remaining_qty, set_consumed_qty=set_consumed_qty
        )
        origin_by_group = {production.procurement_group_id: production for production in self}
        for backorder in (productions - self).filtered(lambda production: production.state in OPEN_STATES):
            backorder.with_context(mfg_transition=True).mfg_backorder_of_id = origin_by_group.get(
                backorder.procurement_group_id
            )
            backorder._mfg_release()
        return productions

    def write(self, vals):
        # Planners' changes after release only: not Odoo's own rewrites inside a transition.
        in_transition = "state" in vals or self.env.context.get("mfg_transition")
        watched = [] if in_transition else [name for name in CHANGE_FIELDS if name in vals]
        released = self.filtered(lambda production: production.state in OPEN_STATES) if watched else self.browse()
        before = {production.id: {name: production[name] for name in watched} for production in released}
        waiting = self.browse() if in_transition else self.filtered(lambda p: p.state == "confirmed")
        result = super().write(vals)
        for production in released:
            changed = production._mfg_changed_members(before[production.id])
            if changed:
                data = dict(production._mfg_order_data(), changed=changed)
                self.env["mfg.integration.message"].emit(CHANGED, production, data)
        waiting._mfg_emit_started()
        return result

    def _mfg_changed_members(self, before):
        """Event members whose field really changed (an unchanged value written again is no change)."""
        self.ensure_one()
        changed = []
        for name, old in before.items():
            new = self[name]
            if name == "product_qty":
                different = float_compare(old, new, precision_rounding=self.product_uom_id.rounding) != 0
            else:
                different = old != new
            if different:
                changed.append(CHANGE_FIELDS[name])
        return changed

    def _mfg_emit_started(self):
        """Announce the orders of ``self`` (all confirmed a moment ago) that work started on."""
        for production in self.filtered(lambda production: production.state in ("progress", "to_close")):
            data = dict(
                production._mfg_header(),
                quantity=production.product_qty,
                uom=production.product_uom_id.name,
                # A shop-floor report passes when it happened (context), else it is now.
                started_at=to_rfc3339(self.env.context.get("mfg_occurred_at") or fields.Datetime.now()),
            )
            self.env["mfg.integration.message"].emit(STARTED, production, data)

    def button_mark_done(self):
        unfinished = self.filtered(lambda production: production.state != "done")
        result = super(MrpProduction, self.with_context(mfg_transition=True)).button_mark_done()
        done = unfinished.filtered(lambda production: production.state == "done")
        occurred_at = self.env.context.get("mfg_occurred_at")
        by_production = self.env.context.get("mfg_occurred_at_by_production") or {}
        # Closed from the shop floor: finished when the close happened, not when it arrived.
        for when, finished in done.grouped(lambda production: by_production.get(production.id, occurred_at)).items():
            if when:
                finished.with_context(force_date=True).date_finished = when
        causes = self.env.context.get("mfg_causes") or {}
        for production in done:
            # Closed with other orders (_mfg_close_together): caused by its own report.
            Message = self.env["mfg.integration.message"].with_context(**causes.get(production.id, {}))
            Message.emit(COMPLETED, production, production._mfg_completed_data)
        return result

    def action_cancel(self):
        cancellable = self.filtered(lambda production: production.state not in ("done", "cancel"))
        result = super(MrpProduction, self.with_context(mfg_transition=True)).action_cancel()
        for production in cancellable.filtered(lambda production: production.state == "cancel"):
            self.env["mfg.integration.message"].emit(
                CANCELLED,
                production,
                dict(production._mfg_header(), cancelled_at=to_rfc3339(fields.Datetime.now())),
            )
        return result

    def _mfg_current_state(self):
        self.ensure_one()
        if self.state in OPEN_STATES:
            return RELEASED, self._mfg_order_data
        if self.state == "done":
            return COMPLETED, self._mfg_completed_data
        return None

    @api.model
    def _mfg_resync_domain(self, system):
        """Open orders of ``system``'s company and plant: the job orders it should hold."""
        domain = [("state", "in", OPEN_STATES), ("company_id", "=", system.company_id.id)]
        if system.warehouse_id:
            domain.append(("picking_type_id.warehouse_id", "=", system.warehouse_id.id))
        return domain

    def _mfg_header(self):
        self.ensure_one()
        return {
            "production_order": self._mfg_reference(),
            "plant": self.picking_type_id.warehouse_id._mfg_plant_code(),
            "product": self.product_id._mfg_code(),
        }

    def _mfg_reference(self):
        """The name the shop floor knows the order by (see mfg_released_name)."""
        self.ensure_one()
        return self.mfg_released_name or self.name

    def _mfg_order_data(self):
        """The job order the shop floor needs: what, how many, when, with which materials and operations."""
        self.ensure_one()
        return dict(
            self._mfg_header(),
            quantity=self.product_qty,
            uom=self.product_uom_id.name,
            tracking=self.product_id.tracking,
            planned_start=to_rfc3339(self.date_start),
            planned_end=to_rfc3339(self.date_finished),
            origin=self.origin or None,
            backorder_of=self.mfg_backorder_of_id._mfg_reference() if self.mfg_backorder_of_id else None,
            components=[
                {
                    "material": move.product_id._mfg_code(),
                    "quantity": move.product_uom_qty,
                    "uom": move.product_uom.name,
                    "tracking": move.product_id.tracking,
                }
                for move in self.move_raw_ids
            ],
            operations=[
                {
                    "sequence": index,
                    "name": workorder.name,
                    "work_center": workorder.workcenter_id._mfg_code(),
                    "expected_duration_minutes": workorder.duration_expected,
                }
                for index, workorder in enumerate(self.workorder_ids, start=1)
            ],
        )

    def _mfg_completed_data(self):
        """Production performance: produced lots, consumed material lots and scrap."""
        self.ensure_one()
        finished_lines = self.move_finished_ids.filtered(
            lambda move: move.product_id == self.product_id and move.state == "done"
        ).move_line_ids
        consumed_lines = self.move_raw_ids.filtered(lambda move: move.state == "done").move_line_ids
        return dict(
            self._mfg_header(),
            produced_quantity=self.qty_produced,
            uom=self.product_uom_id.name,
            completed_at=to_rfc3339(self.date_finished),
            finished_lots=[
                {"lot": line.lot_id.name, "quantity": line.quantity} for line in finished_lines if line.lot_id
            ],
            consumed=[_material_line(line) for line in consumed_lines if line.quantity],
            scrap=[
                {
                    "material": scrap.product_id._mfg_code(),
                    "quantity": scrap.scrap_qty,
                    "uom": scrap.product_uom_id.name,
                    "lot": scrap.lot_id.name or None,
                }
                for scrap in self.scrap_ids
                if scrap.state == "done"
            ],
        )

    # -- inbound: mfg.production.performance_reported.v1 ---------------------------------

    @api.model
    def _mfg_find_order(self, reference, path="/data/production_order"):
        """The order the shop floor calls ``reference`` (its released name survives Odoo's renaming);
        once it is done, the open backorder that carries on its work."""
        production = self.search(
            ["|", ("mfg_released_name", "=", reference), ("name", "=", reference)], order="id", limit=1
        )
        if not production:
            raise MfgBusinessError(self.env._("Manufacturing order %(ref)s does not exist.", ref=reference), path=path)
        while production.state == "done":
            backorder = self.search(
                [("mfg_backorder_of_id", "=", production.id), ("state", "!=", "cancel")], order="id", limit=1
            )
            if not backorder:
                break
            production = backorder
        return production

    @api.model
    def _mfg_handle_performance_reported(self, message, data):
        """Apply one shop-floor production report: finished quantity and lot, consumption, scrap, close.

        Without ``quantity`` the report only consumes, scraps or closes (a close needs no quantity)."""
        production = self._mfg_reported_order(data)
        production._mfg_started_by_report({production.id: production.env.context["mfg_occurred_at"]})
        scraps = production._mfg_apply_report(message, data)
        if data.get("close"):
            production._mfg_close(production.env.context["mfg_occurred_at"])
        return production._mfg_report_result(scraps)

    @api.model
    def _mfg_handle_performance_reported_many(self, applications):
        """Apply several production reports on different orders (``applications``: [(this model in the
        report's environment, message, data)], see the inbox's ``_inbound_apply_together``): each one as
        the single handler does up to its close, then the orders closed together (see _mfg_close_together).
        All or nothing: any error is raised, the caller rolls them all back. Returns their results in order."""
        productions = [model._mfg_reported_order(data) for model, _message, data in applications]
        ids = [production.id for production in productions]
        if len(set(ids)) < len(ids):
            # Two subjects naming one order (its released name and its own, or a done order's backorder).
            raise MfgBusinessError(self.env._("Two reports of the group are about one order."))
        # The orders read together: the first one's moves, work orders... are read with the others'
        # in one query each (prefetch) instead of one query per order; started in one environment
        # (every environment alive slows the creation of the next ones, see README "Inbound").
        productions = [production.with_prefetch(ids) for production in productions]
        self.browse(ids)._mfg_started_by_report(
            {production.id: production.env.context["mfg_occurred_at"] for production in productions}
        )
        scraps = [
            production._mfg_apply_report(message, data)
            for (_model, message, data), production in zip(applications, productions, strict=True)
        ]
        closing = zip(productions, (data for _model, _message, data in applications), strict=True)
        self._mfg_close_together([production for production, data in closing if data.get("close")])
        return [production._mfg_report_result(made) for production, made in zip(productions, scraps, strict=True)]

    @api.model
    def _mfg_reported_order(self, data):
        """The open order a production report is about, with the report's ``mfg_occurred_at`` in its
        context: everything the report does is dated when it happened (started event, scrap and stock
        moves)."""
        production = self._mfg_find_order(data["production_order"])
        if production.state not in OPEN_STATES:
            raise MfgBusinessError(
                self.env._(
                    "Manufacturing order %(ref)s is %(state)s: it takes no more production reports.",
                    ref=production.name,
                    state=production.state,
                ),
                path="/data/production_order",
            )
        return production.with_context(mfg_occurred_at=parse_rfc3339(data["occurred_at"]))

    def _mfg_apply_report(self, message, data):
        """Everything a production report does on this order (see _mfg_reported_order) after its
        start and before its close: returns the scraps made."""
        self.ensure_one()
        production = self
        system = message.system_id
        Mapping = self.env["mfg.integration.code.mapping"]
        occurred_at = self.env.context["mfg_occurred_at"]
        # Every quantity is resolved and checked first, then applied in one go (_add_reported_quantities).
        reports = []
        if "quantity" in data:
            quantity = Mapping._resolve_quantity(
                system, data["quantity"], data.get("uom"), production.product_uom_id, "/data/uom"
            )
            reports.append(production._mfg_finished_report(system, data.get("lot"), quantity))
            if "consumed" not in data:
                reports += production._mfg_consumption_per_bom(quantity)
        for index, line in enumerate(data.get("consumed", [])):
            reports.append(production._mfg_consumption_reported(system, line, f"/data/consumed/{index}"))
        _add_reported_quantities(reports)
        if "quantity" in data:
            finished_move = reports[0].move
            # Reports accumulate; what Odoo pre-fills (e.g. when a work order starts) is replaced.
            # Odoo stamps its producing lot on every finished line at close: only when there is a single one.
            lots = finished_move.move_line_ids.lot_id
            production.write(
                {
                    "mfg_reported_qty": production.mfg_reported_qty + reports[0].quantity,
                    "qty_producing": production.mfg_reported_qty + reports[0].quantity,
                    "lot_producing_id": lots.id if len(lots) == 1 else False,
                }
            )
        scraps = self.env["stock.scrap"]
        for index, line in enumerate(data.get("scrap", [])):
            scraps |= production._mfg_scrap(system, line, occurred_at, f"/data/scrap/{index}")
        return scraps

    def _mfg_report_result(self, scraps):
        self.ensure_one()
        return {
            "records": [
                {"model": record._name, "id": record.id, "name": record.display_name}
                for records in (self | self.procurement_group_id.mrp_production_ids, scraps)
                for record in records
            ],
            "state": self.state,
            "qty_producing": self.qty_producing,
            "qty_produced": self.qty_produced,
        }

    def _mfg_started_by_report(self, occurred_at_by_order):
        """Orders started on the shop floor when their earliest report says, whatever the arrival order
        (``occurred_at_by_order``: {order id: when}). Nothing here emits events: the environment's
        report (causes, time) does not matter."""
        for production in self.with_context(mfg_transition=True, force_date=True):
            occurred_at = occurred_at_by_order[production.id]
            if production.state == "confirmed" or occurred_at < production.date_start:
                production.date_start = occurred_at

    def _mfg_finished_report(self, system, lot_name, quantity):
        """The reported finished quantity of the order, under its lot when the product is tracked
        (a ``Reported`` for _add_reported_quantities).

        An order takes several finished lots; a serial-tracked order takes one report of one unit per serial."""
        self.ensure_one()
        product = self.product_id
        lot = self.env["stock.lot"]
        if product.tracking != "none":
            if not lot_name:
                raise MfgBusinessError(
                    self.env._("%(product)s is tracked: the report needs its lot.", product=product._mfg_code()),
                    path="/data/lot",
                )
            lot = self._mfg_finished_lot(system, lot_name)
        move = self.move_finished_ids.filtered(lambda m: m.product_id == product and m.state not in ("done", "cancel"))[
            :1
        ]
        if product.tracking == "serial":
            if float_compare(quantity, 1, precision_rounding=self.product_uom_id.rounding) != 0:
                raise MfgBusinessError(
                    self.env._(
                        "%(product)s is serial-tracked: report one unit per serial.", product=product._mfg_code()
                    ),
                    path="/data/quantity",
                )
            if move.mfg_reported and lot in move.move_line_ids.lot_id:
                raise MfgBusinessError(
                    self.env._("Serial %(lot)s was already reported on order %(ref)s.", lot=lot_name, ref=self.name),
                    path="/data/lot",
                )
        # Not picked until the close: Odoo counts a picked finished move as produced already.
        return Reported(move, quantity, lot, picked=False)

    def _mfg_finished_lot(self, system, lot_name):
        # The shop floor names the finished lots: creating the finished lot is always allowed.
        return self.env["mfg.integration.code.mapping"]._resolve_lot(
            system, self.product_id, lot_name, "/data/lot", create=True
        )

    def _mfg_consumption_reported(self, system, line, path):
        """One reported consumption line as a ``Reported`` (see _add_reported_quantities)."""
        Mapping = self.env["mfg.integration.code.mapping"]
        product = Mapping.resolve(system, "product", line["material"], path=f"{path}/material")
        move = self.move_raw_ids.filtered(lambda m: m.product_id == product and m.state not in ("done", "cancel"))[:1]
        if not move:
            raise MfgBusinessError(
                self.env._(
                    "%(material)s is not a component of order %(ref)s.", material=line["material"], ref=self.name
                ),
                path=f"{path}/material",
            )
        quantity = Mapping._resolve_quantity(system, line["quantity"], line.get("uom"), move.product_uom, f"{path}/uom")
        lot = self.env["stock.lot"]._mfg_reported(system, product, line.get("lot"), f"{path}/lot")
        return Reported(move, quantity, lot)

    def _mfg_consumption_per_bom(self, quantity):
        """No consumption reported: the BOM's share of every component (``Reported``s)."""
        reports = []
        for move in self.move_raw_ids.filtered(lambda m: m.state not in ("done", "cancel")):
            if move.product_id.tracking != "none":
                raise MfgBusinessError(
                    self.env._(
                        "%(material)s is tracked: report its consumption with lots.",
                        material=move.product_id._mfg_code(),
                    ),
                    path="/data/consumed",
                )
            share = float_round(
                move.product_uom_qty * quantity / self.product_qty, precision_rounding=move.product_uom.rounding
            )
            reports.append(Reported(move, share, self.env["stock.lot"]))
        return reports

    def _mfg_scrap(self, system, line, occurred_at, path):
        Mapping = self.env["mfg.integration.code.mapping"]
        product = Mapping.resolve(system, "product", line["material"], path=f"{path}/material")
        move = self.move_raw_ids.filtered(lambda m: m.product_id == product)[:1]
        uom = move.product_uom or product.uom_id
        quantity = Mapping._resolve_quantity(system, line["quantity"], line.get("uom"), uom, f"{path}/uom")
        vals = {
            "production_id": self.id,
            "product_id": product.id,
            "scrap_qty": quantity,
            "product_uom_id": uom.id,
            "location_id": (move.location_id or self.location_src_id).id,
            "company_id": self.company_id.id,
            "origin": self.name,
            "date_done": occurred_at,
        }
        if line.get("lot"):
            vals["lot_id"] = Mapping._resolve_lot(system, product, line["lot"], f"{path}/lot").id
        if line.get("reason"):
            reason = Mapping.resolve(system, "scrap_reason", line["reason"], path=f"{path}/reason")
            vals["scrap_reason_tag_ids"] = [(4, reason.id)]
        scrap = self.env["stock.scrap"].create(vals)
        scrap.do_scrap()  # its moves dated by the report's mfg_occurred_at (see stock.move._action_done)
        return scrap

    def _mfg_close(self, occurred_at):
        """Finish the order; a shortfall becomes a backorder (released to the shop floor, see
        _split_productions) as the operation type's rules say."""
        self._mfg_mark_done(occurred_at, backorder=self._mfg_close_prepare())

    def _mfg_close_prepare(self):
        """Check the order may close and drop the components the shop floor did not report (they were
        not consumed); True when its shortfall becomes a backorder."""
        self.ensure_one()
        if not self.mfg_reported_qty:
            raise MfgBusinessError(
                self.env._("Order %(ref)s has no reported production to close.", ref=self.name), path="/data/close"
            )
        unreported = self.move_raw_ids.filtered(lambda m: not m.mfg_reported and m.state not in ("done", "cancel"))
        unreported.move_line_ids.unlink()
        unreported.picked = False
        return self.mfg_reported_qty < self.product_qty and self.picking_type_id.create_backorder != "never"

    def _mfg_mark_done(self, occurred_at, backorder):
        # A buffered close is dated when it happened: stock moves, the order's end, open time logs.
        self.with_context(
            skip_consumption=True,
            skip_backorder=True,
            skip_redirection=True,
            mo_ids_to_backorder=self.ids if backorder else [],
            mfg_occurred_at=occurred_at,
            mfg_push_rules={},  # see procurement.group._get_push_rule
        ).button_mark_done()

    @api.model
    def _mfg_close_together(self, productions):
        """Close reported orders (a list, each in its report's environment) in as few button_mark_done
        as their closes allow: Odoo posts the stock moves of several orders together, in a fraction of
        the queries per order. Closed together: orders with no open work order and no backorder (those
        emit events of their own: closed one by one); each keeps its report's time (its end, its
        moves' dates) and its completed event its own report as cause."""
        together = []
        for production in productions:
            backorder = production._mfg_close_prepare()
            if backorder or production.workorder_ids.filtered(lambda w: w.state not in ("done", "cancel")):
                production._mfg_mark_done(production.env.context["mfg_occurred_at"], backorder)
            else:
                together.append(production)
        if together:
            times = {production.id: production.env.context["mfg_occurred_at"] for production in together}
            causes = {
                production.id: {key: production.env.context.get(key) for key in CAUSES} for production in together
            }
            self.browse(list(times)).with_context(
                mfg_causes=causes, mfg_occurred_at_by_production=times
            )._mfg_mark_done(max(times.values()), backorder=False)


def _material_line(line):
    return {
        "material": line.product_id._mfg_code(),
        "quantity": line.quantity,
        "uom": line.product_uom_id.name,
        "lot": line.lot_id.name or None,
    }


class Reported(NamedTuple):
    """A reported quantity of a move (consumed component or finished product), in the move's unit."""

    move: models.BaseModel
    quantity: float
    lot: models.BaseModel
    picked: bool = True


def _add_reported_quantities(reports):
    """Add the reported quantities of one report to their moves in the fewest writes.

    A move's first report replaces what Odoo reserved or pre-filled: its reserved lines are reused
    the way a user edits them (lot and quantity rewritten where they differ) and those left over are
    removed in one unreservation for the whole report; later reports add to the line of their lot."""
    if not reports:
        return
    env = reports[0].move.env
    MoveLine = env["stock.move.line"]
    wanted = defaultdict(float)  # (move, lot): quantity, several lines of one lot summed
    for report in reports:
        wanted[report.move, report.lot] += report.quantity
    moves = env["stock.move"].concat(*{report.move: None for report in reports})
    free = {move: move.move_line_ids.filtered(_reusable_line) if not move.mfg_reported else MoveLine for move in moves}
    leftovers = moves.filtered(lambda move: not move.mfg_reported).move_line_ids
    rewrites, new_lines = [], []
    for (move, lot), quantity in wanted.items():
        if move.mfg_reported:
            line = move.move_line_ids.filtered(lambda existing, lot=lot: existing.lot_id == lot)[:1]
            if line:
                rewrites.append((line, {"quantity": line.quantity + quantity}))
                continue
        else:
            line = (free[move].filtered(lambda existing, lot=lot: existing.lot_id == lot) or free[move])[:1]
            if line:
                free[move] -= line
                leftovers -= line
                vals = {"lot_id": lot.id} if line.lot_id != lot else {}
                if float_compare(line.quantity, quantity, precision_rounding=move.product_uom.rounding):
                    vals["quantity"] = quantity
                rewrites.append((line, vals))
                continue
        new_lines.append(
            {
                "move_id": move.id,
                "product_id": move.product_id.id,
                "lot_id": lot.id or False,
                "quantity": quantity,
                "product_uom_id": move.product_uom.id,
                "location_id": move.location_id.id,
                "location_dest_id": move.location_dest_id.id,
            }
        )
    picked = {report.move: report.picked for report in reports}
    to_mark = {
        value: moves.filtered(
            lambda move, value=value: picked[move] == value and (move.picked != value or not move.mfg_reported)
        )
        for value in (True, False)
    }
    leftovers.unlink()  # first, so that what they held is free for the lines below
    for line, vals in rewrites:
        if vals:
            line.write(vals)
    MoveLine.create(new_lines)
    for value, marked in to_mark.items():
        marked.write({"mfg_reported": True, "picked": value})


def _reusable_line(line):
    """A reserved line a report may rewrite: in the move's own units and locations, no package or owner
    (what a reported line is created with)."""
    move = line.move_id
    return (
        line.product_uom_id == move.product_uom
        and line.location_id == move.location_id
        and line.location_dest_id == move.location_dest_id
        and not (line.package_id or line.result_package_id or line.owner_id)
    )
