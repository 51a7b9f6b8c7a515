"""Access rights: Integration Users read, only managers act; companies are walled off."""

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, tagged

from .common import MonitoringFixtures


@tagged("post_install", "-at_install")
class TestMonitoringAccess(TransactionCase, MonitoringFixtures):
    def setUp(self):
        super().setUp()
        self.setup_monitoring()
        self.company_b = self.env["res.company"].create({"name": "Plant B"})
        self.system_b = self.make_system(code="MES-B", name="MES Plant B", company_id=self.company_b.id)
        self.endpoint_b = self.make_endpoint(self.system_b, "http://127.0.0.1:9/b", self.event_type, name="B orders")
        self.message_a = self.seed("dead", 30)
        self.message_b = self.seed("dead", 30, endpoint=self.endpoint_b, count=4)
        self.env["mfg.integration.sla"].create(
            {
                "name": "B SLA",
                "event_type_id": self.event_type.id,
                "max_age_minutes": 1,
                "company_id": self.company_b.id,
            }
        )
        self.env["mfg.integration.alert"]._cron_evaluate()
        self.viewer = self.make_user("viewer-a", "mfg_integration.group_mfg_integration_user")

    def test_integration_user_reads_but_cannot_replay_or_edit(self):
        message = self.message_a.with_user(self.viewer)
        self.assertEqual(message.state, "dead")
        with self.assertRaises(AccessError):
            message.action_replay()
        with self.assertRaises(AccessError):
            message.action_retry_now()
        with self.assertRaises(AccessError):
            message.action_cancel()
        with self.assertRaises(AccessError):
            message.write({"payload": "{}"})
        with self.assertRaises(AccessError):
            self.env["mfg.integration.sla"].with_user(self.viewer).create(
                {"name": "x", "event_type_id": self.event_type.id}
            )
        self.assertEqual(self.message_a.state, "dead")
        # The dashboard itself is open to Integration Users.
        data = self.env["mfg.integration.dashboard"].with_user(self.viewer).get_dashboard_data()
        self.assertEqual(data["totals"]["dead"], 1)

    def test_company_a_user_sees_nothing_of_company_b(self):
        env = self.env(user=self.viewer)
        data = env["mfg.integration.dashboard"].get_dashboard_data()
        self.assertEqual({c["system_id"] for c in data["cards"]}, {self.system.id})
        self.assertEqual(data["totals"]["dead"], 1)
        self.assertFalse(data["sla_breaches"])
        self.assertFalse(env["mfg.integration.message"].search([("system_id", "=", self.system_b.id)]))
        self.assertFalse(env["mfg.integration.system"].search([("company_id", "=", self.company_b.id)]))
        self.assertFalse(env["mfg.integration.alert"].search([("system_id", "=", self.system_b.id)]))
        self.assertFalse(env["mfg.integration.sla"].search([("company_id", "=", self.company_b.id)]))
        with self.assertRaises(AccessError):
            self.message_b[0].with_user(self.viewer).read(["payload"])
        # Company B itself sees its four dead letters and its SLA breach.
        self.viewer.write({"company_ids": [(4, self.company_b.id)]})
        env_b = self.env(user=self.viewer, context={"allowed_company_ids": [self.company_b.id]})
        data_b = env_b["mfg.integration.dashboard"].get_dashboard_data()
        self.assertEqual({c["system_id"] for c in data_b["cards"]}, {self.system_b.id})
        self.assertEqual(data_b["totals"]["dead"], 4)
        self.assertEqual([b["sla_name"] for b in data_b["sla_breaches"]], ["B SLA"])

    def test_user_without_integration_group_gets_no_dashboard(self):
        stranger = self.make_user("stranger-a", "base.group_user")
        with self.assertRaises(AccessError):
            self.env["mfg.integration.dashboard"].with_user(stranger).get_dashboard_data()
