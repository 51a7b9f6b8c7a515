import json

from odoo import api, fields, models

from odoo.addons.mfg_integration.exceptions import MfgBusinessError
from odoo.addons.mfg_integration.lib.timeconv import parse_rfc3339

from ..lib import compare

SCOPES = [("wip", "Work in progress"), ("inventory", "On-hand stock"), ("purchase", "Open purchase lines")]


class MfgIntegrationReconciliationRun(models.Model):
    """One snapshot of an external system (received in pages) and its comparison with Odoo."""

    _name = "mfg.integration.reconciliation.run"
    _description = "Reconciliation Run"
    _order = "as_of desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    system_id = fields.Many2one("mfg.integration.system", required=True, readonly=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="system_id.company_id", store=True, index=True)
    scope = fields.Selection(SCOPES, required=True, readonly=True)
    event_type_id = fields.Many2one("mfg.integration.event.type", readonly=True, ondelete="restrict")
    snapshot_ref = fields.Char(string="Snapshot", required=True, readonly=True, help="The system's id of the snapshot.")
    as_of = fields.Datetime(required=True, readonly=True, help="The moment the snapshot shows.")
    page_count = fields.Integer(string="Pages", readonly=True)
    pages_received = fields.Integer(readonly=True)
    page_ids = fields.One2many("mfg.integration.reconciliation.page", "run_id", string="Received Pages", readonly=True)
    message_id = fields.Many2one(
        "mfg.integration.message",
        string="Completing Event",
        readonly=True,
        ondelete="set null",
        # The retention purge keeps the events of runs still here, one lookup per message.
        index="btree_not_null",
        help="The event whose page completed the snapshot; accepted values are applied as this system's reports.",
    )
    state = fields.Selection(
        [("receiving", "Receiving Pages"), ("compared", "Compared")], default="receiving", required=True, readonly=True
    )
    compared_at = fields.Datetime(readonly=True)
    line_ids = fields.One2many("mfg.integration.reconciliation.line", "run_id", string="Differences", readonly=True)
    line_count = fields.Integer(compute="_compute_line_counts", string="All Differences")
    open_line_count = fields.Integer(compute="_compute_line_counts", string="Open Differences")

    _sql_constraints = [
        (
            "snapshot_unique",
            "unique(system_id, scope, snapshot_ref)",
            "A system's snapshot is received once.",
        ),
    ]

    @api.depends("system_id.code", "snapshot_ref")
    def _compute_name(self):
        for run in self:
            run.name = f"{run.system_id.code} / {run.snapshot_ref}"

    def _compute_line_counts(self):
        counts = {
            (run, state): count
            for run, state, count in self.env["mfg.integration.reconciliation.line"]._read_group(
                [("run_id", "in", self.ids)], ["run_id", "state"], ["__count"]
            )
        }
        for run in self:
            run.line_count = sum(count for (counted, _state), count in counts.items() if counted == run)
            run.open_line_count = counts.get((run, "open"), 0)

    def action_view_lines(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mfg_integration_reconciliation.mfg_integration_reconciliation_line_action"
        )
        action["domain"] = [("run_id", "=", self.id)]
        action["context"] = {"search_default_open": 1}
        return action

    # -- inbound: snapshots in pages ----------------------------------------------------

    @api.model
    def _mfg_handle_wip_reported(self, message, data):
        """One page of an MES's work in progress: mfg.production.wip_reported.v1."""
        return self._mfg_receive_page(message, data, "wip", data["orders"])

    @api.model
    def _mfg_handle_inventory_snapshot_reported(self, message, data):
        """One page of a WMS's on-hand stock: mfg.inventory.snapshot_reported.v1."""
        return self._mfg_receive_page(message, data, "inventory", data["items"])

    @api.model
    def _mfg_handle_open_lines_reported(self, message, data):
        """One page of a supplier portal's open purchase lines: mfg.purchase.open_lines_reported.v1."""
        return self._mfg_receive_page(message, data, "purchase", data["lines"])

    @api.model
    def _mfg_receive_page(self, message, data, scope, items):
        """Store one page; the page completing the snapshot runs the comparison."""
        system = message.system_id
        if data["page"] > data["pages"]:
            raise MfgBusinessError(
                self.env._("Page %(page)s of %(pages)s does not exist.", page=data["page"], pages=data["pages"]),
                path="/data/page",
            )
        as_of = parse_rfc3339(data["as_of"])
        # sudo: the technical user holds no integration rights; it only stores pages of its own
        # system's snapshot (the system comes from its API key) and the comparison reads Odoo's
        # state of that system's company and plant only.
        Run = self.sudo().with_company(system.company_id)
        run = Run.search(
            [("system_id", "=", system.id), ("scope", "=", scope), ("snapshot_ref", "=", data["snapshot_id"])]
        )
        if not run:
            run = Run.create(
                {
                    "system_id": system.id,
                    "scope": scope,
                    "event_type_id": message.event_type_id.id,
                    "snapshot_ref": data["snapshot_id"],
                    "as_of": as_of,
                    "page_count": data["pages"],
                }
            )
        if (run.page_count, run.as_of) != (data["pages"], as_of):
            raise MfgBusinessError(
                self.env._(
                    "Snapshot %(snapshot)s has %(pages)s pages as of %(as_of)s; this page says otherwise.",
                    snapshot=run.snapshot_ref,
                    pages=run.page_count,
                    as_of=run.as_of,
                ),
                path="/data/pages",
            )
        if data["page"] in run.page_ids.mapped("page") or run.state != "receiving":
            raise MfgBusinessError(
                self.env._(
                    "Page %(page)s of snapshot %(snapshot)s was already received.",
                    page=data["page"],
                    snapshot=run.snapshot_ref,
                ),
                path="/data/page",
            )
        self.env["mfg.integration.reconciliation.page"].sudo().create(
            {"run_id": run.id, "page": data["page"], "items": json.dumps(items), "message_id": message.id}
        )
        # Writing the counter on the run serialises concurrent pages of one snapshot: the
        # later transaction fails with a serialization error and is retried, so exactly one
        # page sees the snapshot complete.
        run.pages_received = len(run.page_ids)
        if run.pages_received == run.page_count:
            run.message_id = message
            run._compare()
        return {
            "records": [{"model": run._name, "id": run.id, "name": run.name}],
            "snapshot_id": run.snapshot_ref,
            "pages_received": run.pages_received,
            "pages": run.page_count,
            "state": run.state,
            "differences": len(run.line_ids),
        }

    # -- comparison -------------------------------------------------------------------------

    def _items(self):
        self.ensure_one()
        return [item for page in self.page_ids.sorted("page") for item in json.loads(page.items)]

    def _compare(self):
        """Compare the complete snapshot with Odoo's state at its as_of and record the differences."""
        self.ensure_one()
        builder = {
            "wip": self._wip_line_values,
            "inventory": self._stock_line_values,
            "purchase": self._purchase_line_values,
        }[self.scope]
        self.env["mfg.integration.reconciliation.line"].create(
            [dict(values, run_id=self.id) for values in builder(self._items())]
        )
        self.write({"state": "compared", "compared_at": fields.Datetime.now()})

    def _wip_line_values(self, items):
        system = self.system_id
        theirs = {
            item["production_order"]: compare.WipState(
                item["status"],
                float(item["produced_quantity"]),
                float(item.get("scrapped_quantity", 0.0)),
                frozenset(item.get("lots", [])),
            )
            for item in items
        }
        productions = system._mfg_wip_productions(self.as_of, theirs)
        ours = system._mfg_wip_states(productions, self.as_of)
        by_name = {production.name: production for production in productions}
        tolerance_of = self.env["mfg.integration.reconciliation.tolerance"]._for_company(system.company_id)
        differences = compare.compare_wip(
            ours,
            theirs,
            lambda reference: tolerance_of(by_name[reference].product_id, by_name[reference].product_uom_id),
        )
        values = []
        for difference in differences:
            (reference,) = difference.key
            production = by_name.get(reference, self.env["mrp.production"])
            system_lots = sorted(theirs[reference].lots) if reference in theirs else []
            values.append(
                dict(
                    _values_of(difference),
                    reference=reference,
                    production_id=production.id,
                    product_id=production.product_id.id,
                    system_lot=system_lots[0] if system_lots else False,
                )
            )
        return values

    def _stock_line_values(self, items):
        system = self.system_id
        Mapping = self.env["mfg.integration.code.mapping"]
        theirs, unresolved = {}, []
        for index, item in enumerate(items):
            try:
                location = Mapping.resolve(system, "location", item["location"])
                product = Mapping.resolve(system, "product", item["material"])
                quantity = Mapping._resolve_quantity(system, item["quantity"], item.get("uom"), product.uom_id, "")
            except MfgBusinessError as error:
                unresolved.append(
                    {
                        "kind": compare.MISSING_IN_ODOO,
                        "measure": "on_hand",
                        "reference": f"{item['location']} / {item['material']}",
                        "system_lot": item.get("lot") or False,
                        "system_quantity": item["quantity"],
                        "system_value": str(float(item["quantity"])),
                        "note": self.env._("Item %(index)s: %(error)s", index=index + 1, error=error.args[0]),
                    }
                )
                continue
            key = (location.id, product.id, system._mfg_lot_name(product, item.get("lot")))
            theirs[key] = theirs.get(key, 0.0) + quantity
        locations = system._mfg_stock_locations()
        ours = system._mfg_stock_view(self.as_of, locations)
        Product = self.env["product.product"]
        tolerance = self.env["mfg.integration.reconciliation.tolerance"]._for_company(system.company_id)

        def tolerance_of(_location_id, product_id):
            product = Product.browse(product_id)
            return tolerance(product, product.uom_id)

        values = []
        for difference in compare.compare_stock(ours, theirs, tolerance_of):
            location_id, product_id, _lot = difference.key
            location, product = self.env["stock.location"].browse(location_id), Product.browse(product_id)
            values.append(
                dict(
                    _values_of(difference),
                    reference=f"{location.complete_name} / {product._mfg_code()}",
                    location_id=location_id,
                    product_id=product_id,
                    lot_name=difference.odoo_lot or False,
                    system_lot=difference.system_lot or False,
                )
            )
        return unresolved + values

    def _purchase_line_values(self, items):
        system = self.system_id
        theirs = {}
        for item in items:
            key = (item["purchase_order"], item["line"])
            promised = fields.Date.to_date(item["promised_date"]) if item.get("promised_date") else None
            theirs[key] = compare.OpenLine(float(item["open_quantity"]), promised)
        lines = system._mfg_open_purchase_lines(self.as_of, [line_id for _order, line_id in theirs])
        open_then = system._mfg_purchase_open_at(lines, self.as_of)
        by_key = {(line.order_id.name, line.id): line for line in lines}
        ours = {
            key: compare.OpenLine(open_then[line.id], line.date_planned.date() if line.date_planned else None)
            for key, line in by_key.items()
            if open_then[line.id] > 0 or key in theirs
        }
        tolerance = self.env["mfg.integration.reconciliation.tolerance"]._for_company(system.company_id)
        materials = {(item["purchase_order"], item["line"]): item["material"] for item in items}
        values = []
        for difference in compare.compare_open_lines(
            ours,
            theirs,
            lambda key: tolerance(by_key[key].product_id, by_key[key].product_uom),
            system.mfg_promised_date_tolerance_days,
        ):
            order_name, line_id = difference.key
            line = by_key.get(difference.key, self.env["purchase.order.line"])
            material = line.product_id._mfg_code() if line else materials[difference.key]
            values.append(
                dict(
                    _values_of(difference),
                    reference=f"{order_name} / {line_id} / {material}",
                    purchase_line_id=line.id,
                    product_id=line.product_id.id,
                )
            )
        return values


def _values_of(difference):
    """Line values both scopes share: kind, measure, and both values (quantities as numbers too)."""
    values = {"kind": difference.kind, "measure": difference.measure}
    for side in ("odoo", "system"):
        value = getattr(difference, f"{side}_value")
        if isinstance(value, (int, float)):
            values[f"{side}_quantity"] = value
        values[f"{side}_value"] = "" if value is None else str(value)
    return values
