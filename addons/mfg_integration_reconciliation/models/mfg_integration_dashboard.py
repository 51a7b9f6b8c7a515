from odoo import api, fields, models


class MfgIntegrationDashboard(models.AbstractModel):
    _inherit = "mfg.integration.dashboard"

    @api.model
    def _sla_breaches(self, company_ids=None, now=None):
        """Message SLAs, plus differences open for longer than a difference SLA allows."""
        breaches = super()._sla_breaches(company_ids, now)
        domain = [("condition", "=", "differences")]
        if company_ids is not None:
            domain.append(("company_id", "in", list(company_ids)))
        # sudo: counts for the given companies (the caller's, or every company for the alert cron).
        Line = self.env["mfg.integration.reconciliation.line"].sudo()
        for sla in self.env["mfg.integration.sla"].sudo().search(domain):
            for system, count, oldest in Line._read_group(
                sla._difference_domain(now), ["system_id"], ["__count", "create_date:min"]
            ):
                breaches[(sla.id, system.id)] = (count, oldest)
        return breaches

    @api.model
    def action_open_messages(self, kind, system_id=None, endpoint_id=None, direction=None, sla_id=None):
        sla = self.env["mfg.integration.sla"].browse(sla_id)
        if kind == "sla" and sla.condition == "differences":
            return sla._action_view_differences(system_id)
        return super().action_open_messages(kind, system_id, endpoint_id, direction, sla_id)

    @api.model
    def get_dashboard_data(self):
        data = super().get_dashboard_data()
        now = fields.Datetime.now()
        company_ids = self.env.companies.ids
        open_by_system = self.env["mfg.integration.reconciliation.line"]._open_by_system(company_ids)
        systems = self.env["mfg.integration.system"].with_context(active_test=False).browse(open_by_system)
        data["reconciliation"] = sorted(
            (
                {
                    "system_id": system.id,
                    "system_name": system.display_name,
                    "open": open_by_system[system.id][0],
                    "oldest_age": int((now - open_by_system[system.id][1]).total_seconds()),
                }
                for system in systems
            ),
            key=lambda row: (-row["oldest_age"], row["system_name"]),
        )
        data["totals"]["open_differences"] = sum(row["open"] for row in data["reconciliation"])
        return data

    @api.model
    def _extra_metrics(self, company_ids):
        metrics = super()._extra_metrics(company_ids)
        now = fields.Datetime.now()
        open_by_system = self.env["mfg.integration.reconciliation.line"]._open_by_system(company_ids)
        # sudo: system codes of the key user's own companies only (rows filtered by company_ids).
        codes = {
            system.id: system.code
            for system in self.env["mfg.integration.system"]
            .sudo()
            .with_context(active_test=False)
            .browse(open_by_system)
        }
        ordered = sorted(open_by_system.items(), key=lambda item: codes[item[0]])
        metrics.append(
            (
                "mfg_integration_reconciliation_open_differences",
                "gauge",
                "Reconciliation differences not resolved yet, by system.",
                [({"system": codes[system_id]}, count) for system_id, (count, _oldest) in ordered],
            )
        )
        metrics.append(
            (
                "mfg_integration_reconciliation_oldest_open_difference_age_seconds",
                "gauge",
                "Age of the oldest unresolved reconciliation difference, by system.",
                [
                    ({"system": codes[system_id]}, int((now - oldest).total_seconds()))
                    for system_id, (_count, oldest) in ordered
                ],
            )
        )
        return metrics
