"""SLA breaches, dead letters and open circuits: one activity per problem, cleared by itself."""

from odoo.tests import TransactionCase, tagged

from .common import MonitoringFixtures


@tagged("post_install", "-at_install")
class TestSlaAlerts(TransactionCase, MonitoringFixtures):
    def setUp(self):
        super().setUp()
        self.setup_monitoring()
        self.support = self.make_user("support-lead", "mfg_integration.group_mfg_integration_manager")
        self.support.partner_id.email = "support-lead@example.com"
        self.system.responsible_user_id = self.support
        self.Alert = self.env["mfg.integration.alert"]
        self.activity_type = self.env.ref("mfg_integration_monitoring.mail_activity_type_integration_alert")
        self.sla = self.env["mfg.integration.sla"].create(
            {"name": "Order confirmed within 15 min", "event_type_id": self.event_type.id, "max_age_minutes": 15}
        )

    def activities(self):
        return self.env["mail.activity"].search(
            [("res_model", "=", "mfg.integration.system"), ("res_id", "=", self.system.id)]
        )

    def open_alerts(self, kind=None):
        domain = [("state", "=", "open"), ("system_id", "=", self.system.id)]
        return self.Alert.search(domain + ([("kind", "=", kind)] if kind else []))

    def test_sla_breach_creates_one_activity_and_clears_itself(self):
        late = self.seed("pending", 20, count=3)
        self.seed("pending", 5)  # within the SLA
        self.seed("done", 60, done_minutes_ago=50, latency_ms=10)  # delivered: not a breach
        self.Alert._cron_evaluate()

        alert = self.open_alerts("sla")
        self.assertEqual(len(alert), 1)
        self.assertEqual(alert.sla_id, self.sla)
        self.assertEqual(alert.message_count, 3)
        activity = self.activities()
        self.assertEqual(len(activity), 1, "one activity for the breach, not one per message")
        self.assertEqual(activity.activity_type_id, self.activity_type)
        self.assertEqual(activity.user_id, self.support)
        self.assertIn("Order confirmed within 15 min", activity.summary)
        self.assertEqual(alert.activity_id, activity)
        self.assertFalse(self.env["mail.mail"].search([("subject", "=", alert.summary)]), "no email unless asked")

        # Later: more late messages, still one alert and one activity, with the new count.
        self.seed("retry", 30, count=2)
        self.Alert._cron_evaluate()
        self.assertEqual(self.open_alerts("sla").message_count, 5)
        self.assertEqual(len(self.activities()), 1)

        # The dashboard shows the breach, and its number opens the late messages.
        breaches = self.env["mfg.integration.dashboard"].get_dashboard_data()["sla_breaches"]
        self.assertEqual(
            [(b["sla_name"], b["system_id"], b["count"]) for b in breaches],
            [("Order confirmed within 15 min", self.system.id, 5)],
        )
        action = self.env["mfg.integration.dashboard"].action_open_messages(
            "sla", system_id=self.system.id, sla_id=self.sla.id
        )
        self.assertEqual(self.env["mfg.integration.message"].search_count(action["domain"]), 5)

        # The backlog clears: the alert and the activity clear themselves, with a trace in the chatter.
        self.env["mfg.integration.message"].search(
            [("system_id", "=", self.system.id), ("state", "in", ("pending", "retry"))]
        ).write({"state": "done"})
        self.Alert._cron_evaluate()
        self.assertFalse(self.open_alerts())
        self.assertFalse(self.activities())
        self.assertEqual(alert.state, "cleared")
        self.assertTrue(alert.cleared_at)
        self.assertIn("Cleared automatically", self.system.message_ids[0].body)
        self.assertTrue(late)

    def test_failed_condition_and_email(self):
        self.sla.write({"condition": "failed", "max_age_minutes": 0, "notify_email": True})
        self.seed("pending", 60)  # late but not failed: no breach of a "failed" SLA
        self.Alert._cron_evaluate()
        self.assertFalse(self.open_alerts("sla"))
        self.seed("retry", 1)
        self.Alert._cron_evaluate()
        alert = self.open_alerts("sla")
        self.assertEqual(alert.message_count, 1)
        mail = self.env["mail.mail"].search([("subject", "=", alert.summary)])
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.support.partner_id)

    def test_sla_of_another_system_or_type_is_not_breached(self):
        other_system = self.make_system(code="WMS-B")
        self.sla.system_id = other_system
        self.seed("pending", 60)
        self.Alert._cron_evaluate()
        self.assertFalse(self.open_alerts("sla"))

    def test_dead_letters_notify_and_clear(self):
        self.system.alert_email = True
        dead = self.seed("dead", 2, count=2)
        self.Alert._cron_evaluate()
        alert = self.open_alerts("dead")
        self.assertEqual(alert.message_count, 2)
        self.assertEqual(len(self.activities()), 1)
        self.assertEqual(len(self.env["mail.mail"].search([("subject", "=", alert.summary)])), 1)
        dead.action_cancel()
        self.Alert._cron_evaluate()
        self.assertFalse(self.open_alerts())
        self.assertFalse(self.activities())

    def test_open_circuit_notifies_once_per_system_and_clears(self):
        self.endpoint.write({"circuit_open_until": "2999-01-01 00:00:00", "consecutive_failures": 5})
        self.endpoint2.write({"circuit_open_until": "2999-01-01 00:00:00", "consecutive_failures": 7})
        self.Alert._cron_evaluate()
        alert = self.open_alerts("circuit")
        self.assertEqual(len(alert), 1)
        self.assertEqual(alert.message_count, 2)
        self.assertIn("MES A backup, MES A orders", alert.summary)
        self.assertEqual(len(self.activities()), 1)
        (self.endpoint | self.endpoint2).action_reset_circuit()
        self.Alert._cron_evaluate()
        self.assertFalse(self.open_alerts())
        self.assertFalse(self.activities())

    def test_new_breach_after_clearing_opens_a_new_alert(self):
        messages = self.seed("dead", 2)
        self.Alert._cron_evaluate()
        messages.action_cancel()
        self.Alert._cron_evaluate()
        self.seed("dead", 1)
        self.Alert._cron_evaluate()
        alerts = self.Alert.search([("system_id", "=", self.system.id), ("kind", "=", "dead")])
        self.assertEqual(sorted(alerts.mapped("state")), ["cleared", "open"])
        self.assertEqual(len(self.activities()), 1)

    def test_without_responsible_the_alert_still_shows(self):
        self.system.responsible_user_id = False
        self.seed("dead", 2)
        self.Alert._cron_evaluate()
        self.assertEqual(len(self.open_alerts("dead")), 1)
        self.assertFalse(self.activities())

    def test_closing_a_circuit_by_hand_is_logged(self):
        self.endpoint.write({"circuit_open_until": "2999-01-01 00:00:00", "consecutive_failures": 5})
        self.endpoint.with_user(self.support).action_reset_circuit()
        self.assertFalse(self.endpoint.circuit_open_until)
        self.assertIn("Circuit closed by hand by support-lead", self.endpoint.message_ids[0].body)
