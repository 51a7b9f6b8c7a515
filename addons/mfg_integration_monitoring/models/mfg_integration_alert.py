import logging

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.mfg_integration.lib.payload import log_safe

_logger = logging.getLogger(__name__)

KINDS = [("sla", "SLA breach"), ("dead", "Dead letters"), ("circuit", "Circuit open")]


class MfgIntegrationAlert(models.Model):
    """One open problem of a system (an SLA breach, dead letters, an open circuit).

    The alert cron keeps at most one open alert, and one activity for the system's
    responsible, per (system, kind, SLA), and closes both once the problem is gone.
    """

    _name = "mfg.integration.alert"
    _description = "Integration Alert"
    _order = "state desc, opened_at desc, id desc"
    _rec_name = "summary"

    kind = fields.Selection(KINDS, required=True, readonly=True)
    system_id = fields.Many2one("mfg.integration.system", required=True, ondelete="cascade", readonly=True, index=True)
    sla_id = fields.Many2one("mfg.integration.sla", string="SLA", ondelete="cascade", readonly=True, index=True)
    company_id = fields.Many2one(related="system_id.company_id", store=True, index=True)
    state = fields.Selection([("open", "Open"), ("cleared", "Cleared")], default="open", required=True, readonly=True)
    summary = fields.Char(readonly=True)
    message_count = fields.Integer(string="Messages", readonly=True)
    oldest_at = fields.Datetime(string="Oldest Since", readonly=True)
    opened_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    cleared_at = fields.Datetime(readonly=True)
    activity_id = fields.Many2one("mail.activity", readonly=True, ondelete="set null")
    user_id = fields.Many2one(related="system_id.responsible_user_id", string="Responsible")

    def init(self):
        # At most one open alert per system, kind and SLA, even with two crons racing.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS mfg_integration_alert_open_uniq
                ON mfg_integration_alert (system_id, kind, COALESCE(sla_id, 0))
             WHERE state = 'open'
            """
        )

    # -- evaluation ----------------------------------------------------------------

    @api.model
    def _current_problems(self, now):
        """{(kind, system_id, sla_id or False): (count, oldest, detail)} over all companies."""
        problems = {}
        Dashboard = self.env["mfg.integration.dashboard"]
        for (sla_id, system_id), (count, oldest) in Dashboard._sla_breaches(None, now).items():
            problems[("sla", system_id, sla_id)] = (count, oldest, "")
        self.env.cr.execute(
            """
            SELECT system_id, count(*), min(create_date)
              FROM mfg_integration_message
             WHERE state = 'dead' AND system_id IS NOT NULL
             GROUP BY system_id
            """
        )
        for system_id, count, oldest in self.env.cr.fetchall():
            problems[("dead", system_id, False)] = (count, oldest, "")
        self.env.cr.execute(
            """
            SELECT system_id, count(*), min(circuit_open_until), string_agg(name, ', ' ORDER BY name)
              FROM mfg_integration_endpoint
             WHERE active AND circuit_open_until IS NOT NULL
             GROUP BY system_id
            """
        )
        for system_id, count, since, names in self.env.cr.fetchall():
            problems[("circuit", system_id, False)] = (count, since, names)
        return problems

    @api.model
    def _cron_evaluate(self):
        """Open, update and close alerts (and their activities) from the current numbers."""
        for model in ("mfg.integration.message", "mfg.integration.endpoint", "mfg.integration.sla"):
            self.env[model].flush_model()
        now = fields.Datetime.now()
        problems = self._current_problems(now)
        open_alerts = {
            (alert.kind, alert.system_id.id, alert.sla_id.id or False): alert
            for alert in self.search([("state", "=", "open")])
        }
        for key, alert in open_alerts.items():
            if key not in problems:
                alert._clear()
        for key, (count, oldest, detail) in problems.items():
            alert = open_alerts.get(key)
            if alert:
                if (alert.message_count, alert.oldest_at) != (count, oldest):
                    alert.write({"message_count": count, "oldest_at": oldest})
                continue
            kind, system_id, sla_id = key
            self._open(kind, system_id, sla_id, count, oldest, detail)
        return len(problems)

    @api.model
    def _open(self, kind, system_id, sla_id, count, oldest, detail):
        system = self.env["mfg.integration.system"].browse(system_id)
        sla = self.env["mfg.integration.sla"].browse(sla_id)
        alert = self.create(
            {
                "kind": kind,
                "system_id": system.id,
                "sla_id": sla.id,
                "message_count": count,
                "oldest_at": oldest,
            }
        )
        alert.summary = alert._describe(detail)
        user = system.responsible_user_id
        if user:
            alert.activity_id = system.activity_schedule(
                "mfg_integration_monitoring.mail_activity_type_integration_alert",
                summary=alert.summary,
                note=alert._note(),
                user_id=user.id,
            )
            if sla.notify_email if kind == "sla" else system.alert_email:
                alert._send_email()
        else:
            _logger.warning(
                "Integration alert without responsible user on system %s: %s", system.code, log_safe(alert.summary)
            )
        return alert

    def _describe(self, detail=""):
        self.ensure_one()
        system = self.system_id.display_name
        if self.kind == "sla":
            return self.env._(
                "SLA breached on %(system)s: %(sla)s (%(count)s messages)",
                system=system,
                sla=self.sla_id.name,
                count=self.message_count,
            )
        if self.kind == "dead":
            return self.env._(
                "Dead letters on %(system)s (%(count)s messages)", system=system, count=self.message_count
            )
        return self.env._("Circuit open on %(system)s: %(endpoints)s", system=system, endpoints=detail)

    def _note(self):
        self.ensure_one()
        return Markup("<p>%s</p><p>%s</p>") % (
            self.summary,
            self.env._("This activity closes itself when the problem is gone (see Integration > Dashboard)."),
        )

    def _send_email(self):
        self.ensure_one()
        partner = self.system_id.responsible_user_id.partner_id
        if not partner.email:
            return
        # sudo: the cron queues a notification email to the responsible; mail.mail is admin-only.
        self.env["mail.mail"].sudo().create(
            {
                "subject": self.summary,
                "body_html": self._note(),
                "recipient_ids": [(4, partner.id)],
                "model": "mfg.integration.system",
                "res_id": self.system_id.id,
                "auto_delete": True,
            }
        )

    def _clear(self):
        now = fields.Datetime.now()
        for alert in self:
            if alert.activity_id.exists():
                alert.activity_id.action_feedback(feedback=self.env._("Cleared automatically: the problem is gone."))
            alert.write({"state": "cleared", "cleared_at": now, "activity_id": False})

    def action_view_messages(self):
        self.ensure_one()
        Dashboard = self.env["mfg.integration.dashboard"]
        if self.kind == "sla":
            return Dashboard.action_open_messages("sla", system_id=self.system_id.id, sla_id=self.sla_id.id)
        if self.kind == "dead":
            return Dashboard.action_open_messages("dead", system_id=self.system_id.id)
        action = self.env["ir.actions.act_window"]._for_xml_id("mfg_integration.mfg_integration_endpoint_action")
        action["domain"] = [("system_id", "=", self.system_id.id), ("circuit_open_until", "!=", False)]
        return action

    @api.model
    def _open_count_sql(self, company_ids):
        """{(system_id, kind): open alerts} for /metrics."""
        self.env.cr.execute(
            SQL(
                """
                SELECT system_id, kind, count(*) FROM mfg_integration_alert
                 WHERE state = 'open' AND company_id = ANY(%s)
                 GROUP BY system_id, kind
                """,
                list(company_ids),
            )
        )
        return {(system_id, kind): count for system_id, kind, count in self.env.cr.fetchall()}
