import logging

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.osv import expression

from odoo.addons.mfg_integration.exceptions import MfgBusinessError
from odoo.addons.mfg_integration.lib.timeconv import parse_rfc3339, to_rfc3339
from odoo.addons.mfg_integration_stock.lib.results import records_result

_logger = logging.getLogger(__name__)

EVENT_INSPECTION_COMPLETED = "mfg.quality.inspection_completed.v1"
OPEN_STATES = ("plan", "draft", "ready", "waiting")
DONE_STATES = ("success", "failed")


class QcInspection(models.Model):
    _name = "qc.inspection"
    _inherit = ["qc.inspection", "mfg.integration.record.mixin"]

    mfg_system_id = fields.Many2one(
        "mfg.integration.system", string="Reported By", readonly=True, help="Quality system that reported the result."
    )
    mfg_inspector = fields.Char(string="Inspector", readonly=True)
    mfg_reported_outcome = fields.Selection(
        [("pass", "Pass"), ("fail", "Fail")],
        string="System's Verdict",
        readonly=True,
        help="Outcome the quality system reported; Odoo's own verdict from the test's limits is 'Success?'.",
    )
    mfg_verdicts_differ = fields.Boolean(
        string="Verdicts Differ",
        compute="_compute_mfg_verdicts_differ",
        store=True,
        help="The quality system's verdict is not the one the test's limits give.",
    )

    @api.depends("mfg_reported_outcome", "success")
    def _compute_mfg_verdicts_differ(self):
        for inspection in self:
            reported = inspection.mfg_reported_outcome
            inspection.mfg_verdicts_differ = bool(reported) and (reported == "pass") != inspection.success

    def write(self, vals):
        completing = self.browse()
        if vals.get("state") in DONE_STATES:
            completing = self.filtered(lambda inspection: inspection.state not in DONE_STATES)
        result = super().write(vals)
        if completing:
            done_at = self.env.context.get("mfg_done_at")
            if done_at:
                # The quality system's time of the result, not the time we heard of it.
                super(QcInspection, completing).write({"date_done": done_at})
            completing._mfg_on_completed()
        return result

    def _mfg_on_completed(self):
        for inspection in self:
            inspection.env["mfg.integration.message"]._mfg_emit_not_to_sender(
                EVENT_INSPECTION_COMPLETED, inspection, inspection._mfg_completed_payload(), subject=inspection.name
            )
            lot = inspection.lot_id
            if inspection.state == "failed" and lot and inspection.company_id.mfg_hold_on_failed_inspection:
                lot._mfg_place_hold(
                    _(
                        "Inspection %(inspection)s (%(test)s) failed",
                        inspection=inspection.name,
                        test=inspection.test.name or "",
                    ),
                    origin="inspection",
                    system=inspection.mfg_system_id or None,
                    inspection=inspection,
                )

    def _mfg_completed_payload(self):
        self.ensure_one()
        results = []
        for line in self.inspection_lines:
            if line.question_type == "qualitative":
                value = line.qualitative_value.name or None
            else:
                value = line.quantitative_value
            results.append(
                {
                    "characteristic": line.test_line.mfg_code or line.name or "",
                    "value": value,
                    "uom": line.uom_id.name or None,
                    "ok": bool(line.success),
                }
            )
        return {
            "inspection": self.name,
            "test": self.test.mfg_code or self.test.name or "",
            "subject": {
                "lot": self.lot_id.name or None,
                "material": self.product_id._mfg_code() if self.product_id else None,
                "transfer": self.picking_id.name or None,
                "production_order": self.production_id.name or None,
            },
            "outcome": "pass" if self.state == "success" else "fail",
            "results": results,
            "inspector": self.mfg_inspector or self.user.name or None,
            "occurred_at": to_rfc3339(self.date_done or fields.Datetime.now()),
        }

    # -- inbound -------------------------------------------------------------

    @api.model
    def _mfg_handle_result_reported(self, message, data):
        """mfg.quality.result_reported.v1: complete the matching open inspection, or create it."""
        system = message.system_id
        test = self._mfg_test_for_code(system, data["test"])
        subject = self._mfg_subject_records(system, data["subject"])
        inspection = self._mfg_open_inspection(test, subject)
        if not inspection:
            target = subject["lot"] or subject["production"] or subject["picking"]
            inspection = self.create(
                {"object_id": f"{target._name},{target.id}", "test": test.id, "state": "ready", "qty": 1.0}
            )
            inspection.inspection_lines = inspection._prepare_inspection_lines(test)
        inspection._mfg_fill_results(system, data["results"])
        try:
            occurred_at = parse_rfc3339(data["occurred_at"])
        except ValueError as error:
            raise MfgBusinessError(str(error), path="/occurred_at") from error
        inspector = data.get("inspector")
        user = inspector and self.env["res.users"].search(
            ["|", ("login", "=", inspector), ("name", "=", inspector)], limit=1
        )
        vals = {
            "mfg_system_id": system.id,
            "mfg_inspector": inspector or False,
            "mfg_reported_outcome": data["outcome"],
        }
        if user:
            vals["user"] = user.id
        inspection.write(vals)
        inspection.with_context(mfg_done_at=occurred_at).write(
            {"state": "success" if data["outcome"] == "pass" else "failed"}
        )
        if inspection.mfg_verdicts_differ:
            inspection._mfg_flag_disagreement(system)
        return inspection._mfg_result_answer()

    def _mfg_result_answer(self):
        """What a reported result caused, for the quality system: the inspection, both verdicts,
        and the lot's hold (placed by this result, or already there)."""
        self.ensure_one()
        hold = self.lot_id.mfg_hold_ids.filtered(lambda hold: hold.state == "active")[:1]
        return records_result(
            self,
            hold,
            inspection={
                "name": self.name,
                "outcome": self.mfg_reported_outcome,
                "odoo_outcome": "pass" if self.success else "fail",
            },
            hold={
                "id": hold.id,
                "lot": self.lot_id.name,
                "reason": hold.reason,
                "placed_by_this_result": hold.inspection_id == self,
                "placed_at": to_rfc3339(hold.placed_at),
            }
            if hold
            else None,
        )

    def _mfg_flag_disagreement(self, system):
        """One to-do for the quality responsible when the system's verdict is not the test limits' one."""
        self.ensure_one()
        odoo_outcome = "pass" if self.success else "fail"
        lines = Markup("").join(
            Markup("<li>%s</li>")
            % self.env._(
                "%(question)s: %(value)s (valid: %(valid)s)",
                question=line.name,
                value=line.qualitative_value.name if line.question_type == "qualitative" else line.quantitative_value,
                valid=line.valid_values or "",
            )
            for line in self.inspection_lines
            if not line.success
        )
        summary = _(
            "%(inspection)s: %(system)s says %(reported)s, the test's limits say %(odoo)s",
            inspection=self.name,
            system=system.name,
            reported=self.mfg_reported_outcome,
            odoo=odoo_outcome,
        )
        body = Markup("<p>%s</p>") % summary
        if lines:
            body += Markup("<ul>%s</ul>") % lines
        responsible = self._mfg_quality_responsible(system)
        system._post_on(self, body, {"user_id": responsible.id, "summary": summary, "note": body})

    def _mfg_quality_responsible(self, system):
        """The inspection's Responsible, unless that is a technical user: then the system's Responsible."""
        self.ensure_one()
        if self.user and not self.user.mfg_system_id:
            return self.user
        return system.responsible_user_id or self.user

    @api.model
    def _mfg_test_for_code(self, system, code):
        """The test of the system's company with integration code ``code``, else with that name (any case)."""
        Mapping = self.env["mfg.integration.code.mapping"]
        test = Mapping._find_code("qc.test", system, ("mfg_code",), code) or Mapping._find_code(
            "qc.test", system, ("name",), code, ignore_case=True
        )
        if not test:
            raise MfgBusinessError(_("Unknown quality test %(code)r.", code=code), path="/test")
        return test

    @api.model
    def _mfg_subject_records(self, system, subject):
        lot = self.env["stock.lot"]
        production = self.env["mrp.production"]
        picking = self.env["stock.picking"]
        company = [("company_id", "=", system.company_id.id)]
        if subject.get("production_order"):
            production = production.search([("name", "=", subject["production_order"]), *company], limit=1)
            if not production:
                raise MfgBusinessError(
                    _("Unknown production order %(name)s.", name=subject["production_order"]),
                    path="/subject/production_order",
                )
        if subject.get("transfer"):
            picking = picking.search([("name", "=", subject["transfer"]), *company], limit=1)
            if not picking:
                raise MfgBusinessError(
                    _("Unknown transfer %(name)s.", name=subject["transfer"]), path="/subject/transfer"
                )
        if subject.get("lot"):
            if subject.get("material"):
                lot = lot._mfg_lot_for_event(system, subject["lot"], subject["material"], path="/subject")
            else:
                lots = lot.search([("name", "=", subject["lot"]), *company])
                if len(lots) != 1:
                    raise MfgBusinessError(
                        _(
                            "Lot %(lot)s is unknown or names lots of several products: add the material.",
                            lot=subject["lot"],
                        ),
                        path="/subject/lot",
                    )
                lot = lots
        if not (lot or production or picking):
            raise MfgBusinessError(_("The subject names no lot, production order or transfer."), path="/subject")
        return {"lot": lot, "production": production, "picking": picking}

    @api.model
    def _mfg_open_inspection(self, test, subject):
        objects = [f"{record._name},{record.id}" for record in subject.values() if record]
        matches = [[("object_id", "in", objects)]]
        for name, field in (("lot", "lot_id"), ("production", "production_id"), ("picking", "picking_id")):
            if subject[name]:
                matches.append([(field, "=", subject[name].id)])
        domain = expression.AND([[("test", "=", test.id), ("state", "in", OPEN_STATES)], expression.OR(matches)])
        return self.search(domain, order="id", limit=1)

    def _mfg_fill_results(self, system, results):
        self.ensure_one()
        for index, result in enumerate(results):
            path = f"/results/{index}"
            line = self.inspection_lines.filtered(
                lambda line, code=result["characteristic"]: line.test_line._mfg_matches(code)
            )[:1]
            if not line:
                raise MfgBusinessError(
                    _(
                        "Characteristic %(code)r is not part of test %(test)s.",
                        code=result["characteristic"],
                        test=self.test.display_name,
                    ),
                    path=f"{path}/characteristic",
                )
            value = result["value"]
            if line.question_type == "qualitative":
                answer = line.possible_ql_values.filtered(
                    lambda v, text=str(value): v.name.casefold() == text.casefold()
                )
                if not answer:
                    raise MfgBusinessError(
                        _(
                            "%(value)r is not an answer of %(question)s (answers: %(answers)s).",
                            value=value,
                            question=line.name,
                            answers=", ".join(line.possible_ql_values.mapped("name")),
                        ),
                        path=f"{path}/value",
                    )
                line.qualitative_value = answer[:1]
                continue
            try:
                number = float(value)
            except (TypeError, ValueError) as error:
                raise MfgBusinessError(
                    _("%(question)s expects a number, got %(value)r.", question=line.name, value=value),
                    path=f"{path}/value",
                ) from error
            vals = {"quantitative_value": number}
            if result.get("uom"):
                # sudo: code mappings are integration configuration the technical user may not read.
                uom = (
                    self.env["mfg.integration.code.mapping"]
                    .sudo()
                    .resolve(system, "uom", result["uom"], path=f"{path}/uom")
                )
                vals["uom_id"] = uom.id
            line.write(vals)
