import logging

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.mfg_integration.exceptions import MfgBusinessError
from odoo.addons.mfg_integration.lib.payload import log_safe
from odoo.addons.mfg_integration.lib.timeconv import parse_rfc3339, to_rfc3339
from odoo.addons.mfg_integration_stock.lib.results import records_result

_logger = logging.getLogger(__name__)

EVENT_HOLD_PLACED = "mfg.quality.lot.hold_placed.v1"
EVENT_HOLD_RELEASED = "mfg.quality.lot.hold_released.v1"
RELEASE_GROUP = "quality_control_oca.group_quality_control_manager"
# Fields only the hold/release methods change (they log who, when, why and emit the events).
HOLD_FIELDS = {"mfg_hold_ids", "mfg_on_hold", "mfg_hold_reason"}


class StockLot(models.Model):
    _inherit = "stock.lot"

    mfg_hold_ids = fields.One2many("mfg.quality.lot.hold", "lot_id", string="Quality Holds")
    mfg_on_hold = fields.Boolean(string="On Quality Hold", compute="_compute_mfg_hold", store=True, index=True)
    mfg_hold_reason = fields.Char(string="Hold Reason", compute="_compute_mfg_hold", store=True)

    @api.depends("mfg_hold_ids.state", "mfg_hold_ids.reason")
    def _compute_mfg_hold(self):
        for lot in self:
            active = lot.mfg_hold_ids.filtered(lambda hold: hold.state == "active")
            lot.mfg_on_hold = bool(active)
            lot.mfg_hold_reason = "; ".join(active.mapped("reason")) or False

    def write(self, vals):
        if HOLD_FIELDS & set(vals) and not self.env.su:
            raise AccessError(self.env._("Quality holds are placed and released only with Place/Release Quality Hold."))
        return super().write(vals)

    # -- holds ---------------------------------------------------------------

    def _mfg_place_hold(self, reason, origin="manual", system=None, inspection=None, at=None):
        """Put the lot on quality hold; a lot already on hold keeps its hold (no new event)."""
        self.ensure_one()
        self.check_access("read")  # the hold is written with sudo below: the lot's company is checked here
        if self.mfg_on_hold:
            return self.mfg_hold_ids.filtered(lambda hold: hold.state == "active")[:1]
        # sudo: holds are read-only to users (no forged history); this method is the one way to place one.
        hold = (
            self.env["mfg.quality.lot.hold"]
            .sudo()
            .create(
                {
                    "lot_id": self.id,
                    "reason": reason,
                    "origin": origin,
                    "system_id": system.id if system else False,
                    "inspection_id": inspection.id if inspection else False,
                    "placed_at": at or fields.Datetime.now(),
                    "placed_by_id": self.env.uid,
                }
            )
        )
        self._mfg_note(Markup("<p>%s</p>") % _("Quality hold placed: %(reason)s", reason=reason), system)
        self._mfg_emit_hold(EVENT_HOLD_PLACED, hold, reason, hold.placed_at)
        _logger.info(
            "Lot %s of %s placed on quality hold: %s",
            log_safe(self.name),
            log_safe(self.product_id.display_name),
            log_safe(reason),
        )
        return hold

    def _mfg_release_hold(self, reason, system=None, at=None):
        """Release the lot's active holds: a quality manager's decision (by hand or through the QMS's user)."""
        self.ensure_one()
        self.check_access("read")  # the hold is written with sudo below: the lot's company is checked here
        if not self.env.su and not self.env.user.has_group(RELEASE_GROUP):
            raise AccessError(self.env._("Releasing a quality hold needs the Quality Control / Manager rights."))
        holds = self.mfg_hold_ids.filtered(lambda hold: hold.state == "active")
        if not holds:
            raise UserError(_("Lot %(lot)s is not on quality hold.", lot=self.name))
        # sudo: holds are read-only to users (no forged history); this method is the one way to release one.
        holds.sudo().write(
            {
                "state": "released",
                "released_at": at or fields.Datetime.now(),
                "released_by_id": self.env.uid,
                "release_reason": reason,
                "release_system_id": system.id if system else False,
            }
        )
        self._mfg_note(Markup("<p>%s</p>") % _("Quality hold released: %(reason)s", reason=reason), system)
        self._mfg_emit_hold(EVENT_HOLD_RELEASED, holds[0], reason, holds[0].released_at)
        return holds

    def _mfg_note(self, body, system=None):
        """A note on the lot: in the system's name when a system caused it, else as the user."""
        if system:
            system._post_on(self, body)
        else:
            self.message_post(body=body, subtype_xmlid="mail.mt_note")

    def _mfg_emit_hold(self, event_type_code, hold, reason, at):
        data = {
            "lot": self.name,
            "material": self.product_id._mfg_code(),
            "reason": reason,
            "origin": hold.origin,
            "occurred_at": to_rfc3339(at),
            "user": self.env.user.name,
        }
        if hold.inspection_id:
            data["inspection"] = hold.inspection_id.name
        Message = self.env["mfg.integration.message"]
        if event_type_code == EVENT_HOLD_PLACED and hold.origin == "inspection":
            # Odoo's decision (the company's setting), not an echo: the system whose failed result
            # caused the hold hears of it too.
            Message.emit(event_type_code, self, data, subject=self.name)
        else:
            Message._mfg_emit_not_to_sender(event_type_code, self, data, subject=self.name)

    def _mfg_check_not_on_hold(self, operation):
        """Raise a UserError naming each held lot and its reason."""
        held = self.filtered("mfg_on_hold")
        if held:
            raise UserError(
                _(
                    "%(operation)s is blocked: %(lots)s",
                    operation=operation,
                    lots="; ".join(
                        self.env._(
                            "lot %(lot)s of %(product)s is on quality hold (%(reason)s)",
                            lot=lot.name,
                            product=lot.product_id.display_name,
                            reason=lot.mfg_hold_reason,
                        )
                        for lot in held
                    ),
                )
            )

    def action_mfg_hold_wizard(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Release Quality Hold") if self.mfg_on_hold else _("Place Quality Hold"),
            "res_model": "mfg.quality.lot.hold.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lot_id": self.id, "default_action": "release" if self.mfg_on_hold else "place"},
        }

    # -- inbound -------------------------------------------------------------

    @api.model
    def _mfg_lot_for_event(self, system, lot_name, material, path=""):
        """The existing lot ``lot_name`` of the product the system calls ``material``."""
        # sudo: code mappings are integration configuration the technical user may not read.
        Mapping = self.env["mfg.integration.code.mapping"].sudo()
        product = Mapping.resolve(system, "product", material, path=f"{path}/material")
        # A quality system judges lots; it never creates them.
        lot = Mapping._resolve_lot(system, product, lot_name, f"{path}/lot", create=False)
        return self.browse(lot.id)

    @api.model
    def _mfg_handle_hold_requested(self, message, data):
        """mfg.quality.hold_requested.v1: a quality system puts a lot on hold."""
        system = message.system_id
        lot = self._mfg_lot_for_event(system, data["lot"], data["material"])
        lot._mfg_place_hold(data["reason"], origin="system", system=system, at=_event_time(data))
        return records_result(lot)

    @api.model
    def _mfg_handle_hold_released(self, message, data):
        """mfg.quality.hold_released.v1: a quality system releases a lot's hold."""
        system = message.system_id
        lot = self._mfg_lot_for_event(system, data["lot"], data["material"])
        if not lot.mfg_on_hold:
            raise MfgBusinessError(_("Lot %(lot)s is not on quality hold.", lot=lot.name), path="/lot")
        lot._mfg_release_hold(data["reason"], system=system, at=_event_time(data))
        return records_result(lot)


def _event_time(data):
    try:
        return parse_rfc3339(data["occurred_at"])
    except ValueError as error:
        raise MfgBusinessError(str(error), path="/occurred_at") from error
