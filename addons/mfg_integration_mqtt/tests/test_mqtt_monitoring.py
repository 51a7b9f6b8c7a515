# These tests commit on purpose: the dispatcher delivers committed messages.
# pylint: disable=invalid-commit
"""A broker that is down shows in /health, /metrics and on the dashboard, and stops showing once it is back."""

import re
import uuid

from odoo.addons.mfg_integration.tests.test_dispatcher import ORDER
from odoo.addons.mfg_integration_monitoring.controllers.main import health_document, prometheus_text

from .common import Broker, MqttCase


def metric_value(text, name, transport):
    match = re.search(rf'^{name}\{{transport="{transport}"\}} (\S+)$', text, re.MULTILINE)
    if not match:
        raise AssertionError(f"no {name} for {transport} in /metrics")
    return float(match.group(1))


class TestMqttMonitoring(MqttCase):
    def test_a_broker_down_is_a_failing_health_reason_until_it_is_back(self):
        event_type = self.make_event_type()
        endpoint = self.make_endpoint(
            self.make_system(), "mqtt://set-from-the-broker", event_type, transport="mqtt",
            mqtt_broker_id=self.broker.id, mqtt_enterprise=f"acme{uuid.uuid4().hex[:6]}", circuit_cooldown=1.0,
        )  # fmt: skip
        name = f"{endpoint.system_id.code}/{endpoint.name}"
        companies = endpoint.company_id.ids
        partner = self.make_partner()
        self.cr.commit()
        broker = Broker()
        broker.stop()
        self.addCleanup(lambda: broker.pid_file.exists() or broker.start())
        Message = self.env["mfg.integration.message"]
        messages = Message.browse()
        for index in range(3):
            messages |= Message.emit(event_type.code, partner, dict(ORDER, quantity=index + 1.0))
        self.cr.commit()
        self.dispatch()

        env = self.new_env()
        health = health_document(env, companies)
        self.assertEqual(health["status"], "failing")
        self.assertIn("broker_unreachable", health["reasons"])
        self.assertIn(name, health["brokers_unreachable"])
        metrics = prometheus_text(env, companies)
        self.assertGreaterEqual(metric_value(metrics, "mfg_integration_transport_unreachable", "mqtt"), 1)
        self.assertGreaterEqual(metric_value(metrics, "mfg_integration_transport_failed_24h", "mqtt"), 3)
        mqtt = next(
            t for t in env["mfg.integration.dashboard"].get_dashboard_data()["transports"] if t["transport"] == "mqtt"
        )
        self.assertIn(name, mqtt["unreachable"])
        self.assertGreaterEqual(mqtt["retry"], 3)

        broker.start()
        for _round in range(10):
            self.make_due(messages)
            # Lingering: the dispatcher waits for the circuit's probe (cooldown 1 s), as in production.
            self.new_env()["mfg.integration.message"]._cron_dispatch(time_budget=30, linger=3)
            if set(self.refresh(messages).mapped("state")) == {"done"}:
                break
        self.assertEqual(set(messages.mapped("state")), {"done"})
        env = self.new_env()
        health = health_document(env, companies)
        self.assertNotIn("broker_unreachable", health["reasons"])
        self.assertNotIn(name, health["brokers_unreachable"])
        metrics = prometheus_text(env, companies)
        self.assertGreaterEqual(metric_value(metrics, "mfg_integration_transport_connected", "mqtt"), 1)
        self.assertGreater(
            metric_value(metrics, "mfg_integration_transport_last_delivery_timestamp_seconds", "mqtt"), 0
        )
        self.assertEqual(metric_value(metrics, "mfg_integration_transport_in_flight", "mqtt"), 0)
        mqtt = next(
            t for t in env["mfg.integration.dashboard"].get_dashboard_data()["transports"] if t["transport"] == "mqtt"
        )
        self.assertNotIn(name, mqtt["unreachable"])
        self.assertTrue(mqtt["last_delivery_at"])
