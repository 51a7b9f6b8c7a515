"""Open differences on the dashboard, in /metrics, and as an SLA kind."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.mfg_integration.models.res_users_apikeys import MONITORING_SCOPE

from .common import STOCK, ReconciliationCase


@tagged("post_install", "-at_install")
class TestReconciliationMonitoring(ReconciliationCase):
    def setUp(self):
        super().setUp()
        items = [{"location": self.stock.complete_name, "material": self.bolt.default_code, "quantity": 90}]
        self.run = self.run_of(self.assertProcessed(self.stock_snapshot(items, self.hours_ago(1))))
        self.assertEqual(len(self.run.line_ids), 3)  # stock drift; shelf bolts and steel missing in the WMS

    def test_dashboard_and_metrics(self):
        data = self.env["mfg.integration.dashboard"].with_user(self.viewer).get_dashboard_data()
        (row,) = [row for row in data["reconciliation"] if row["system_id"] == self.wms.id]
        self.assertEqual(row["open"], 3)
        self.assertGreaterEqual(data["totals"]["open_differences"], 3)

        key = self.make_api_key(self.viewer, "prometheus", MONITORING_SCOPE)
        response = self.url_open("/api/mfg/v1/metrics", headers={"Authorization": f"Bearer {key}"})
        self.assertEqual(response.status_code, 200, response.text)
        self.assertIn(f'mfg_integration_reconciliation_open_differences{{system="{self.wms.code}"}} 3\n', response.text)

        self.run.line_ids[0].with_user(self.manager)._explain("Counted twice")
        response = self.url_open("/api/mfg/v1/metrics", headers={"Authorization": f"Bearer {key}"})
        self.assertIn(f'mfg_integration_reconciliation_open_differences{{system="{self.wms.code}"}} 2\n', response.text)

    def test_sla_unresolved_differences_older_than(self):
        self.wms.responsible_user_id = self.manager
        event_type = self.env["mfg.integration.event.type"].search([("code", "=", STOCK)])
        sla = self.env["mfg.integration.sla"].create(
            {
                "name": "Stock differences resolved within 4 h",
                "event_type_id": event_type.id,
                "system_id": self.wms.id,
                "condition": "differences",
                "max_age_minutes": 4 * 60,
            }
        )
        Dashboard = self.env["mfg.integration.dashboard"]
        self.assertNotIn((sla.id, self.wms.id), Dashboard._sla_breaches(None))
        later = fields.Datetime.now() + timedelta(hours=5)
        count, _oldest = Dashboard._sla_breaches(None, later)[(sla.id, self.wms.id)]
        self.assertEqual(count, 3)

        # Five hours later the alert cron opens one alert, and clears it once every difference is resolved.
        Alert = self.env["mfg.integration.alert"]
        self.env.cr.execute(
            "UPDATE mfg_integration_reconciliation_line SET create_date = create_date - interval '5 hours'"
            " WHERE run_id = %s",
            [self.run.id],
        )
        self.env.invalidate_all()
        Alert._cron_evaluate()
        alert = Alert.search([("sla_id", "=", sla.id), ("state", "=", "open")])
        self.assertEqual((alert.system_id, alert.message_count), (self.wms, 3))
        self.assertIn("3 differences", alert.summary)
        self.assertEqual(alert.action_view_messages()["res_model"], "mfg.integration.reconciliation.line")
        self.run.line_ids.with_user(self.manager)._explain("Stocktake pending")
        Alert._cron_evaluate()
        self.assertEqual(alert.state, "cleared")
