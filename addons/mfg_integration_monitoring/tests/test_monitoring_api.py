"""GET /api/mfg/v1/health and /metrics through Odoo's real HTTP stack, with real API keys."""

import re
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from odoo.addons.mfg_integration.models.res_users_apikeys import MONITORING_SCOPE
from odoo.addons.mfg_integration.tests.common import make_api_key

from .common import MonitoringFixtures

API = "/api/mfg/v1"


@tagged("post_install", "-at_install")
class TestMonitoringApi(HttpCase, MonitoringFixtures):
    def setUp(self):
        super().setUp()
        self.setup_monitoring()
        self.monitor = self.make_user("prometheus", "mfg_integration.group_mfg_integration_user")
        self.key = self.api_key(self.monitor)

    def api_key(self, user):
        return make_api_key(self.env, user, "monitoring", MONITORING_SCOPE)

    def get(self, path, key=None):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return self.url_open(API + path, headers=headers)

    def health(self, expected_status=200):
        response = self.get("/health", self.key)
        self.assertEqual(response.status_code, expected_status, response.text)
        self.assertEqual(response.headers["Content-Type"], "application/json")
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        return response.json()

    def test_health_states(self):
        body = self.health()
        self.assertEqual(body["status"], "ok")
        self.assertEqual((body["pending"], body["dead"], body["open_circuits"]), (0, 0, 0))

        self.seed("pending", 2, count=3)
        self.seed("dead", 1)
        self.seed("done", 5, done_minutes_ago=4, latency_ms=10)
        body = self.health()
        self.assertEqual(body["status"], "degraded")
        self.assertEqual(body["reasons"], ["dead_letters"])
        self.assertEqual((body["pending"], body["retry"], body["dead"]), (3, 0, 1))
        self.assertAlmostEqual(body["oldest_pending_age_seconds"], 120, delta=5)

        self.endpoint.circuit_open_until = fields.Datetime.now() + timedelta(minutes=5)
        body = self.health(503)
        self.assertEqual(body["status"], "failing")
        self.assertEqual(body["reasons"], ["circuit_open"])
        self.assertEqual(body["open_circuits"], 1)

    def test_health_backlog_age_thresholds(self):
        self.seed("pending", 10)
        self.assertEqual(self.health()["reasons"], ["backlog_old"])
        self.seed("retry", 45)
        body = self.health(503)
        self.assertEqual(body["reasons"], ["backlog_too_old"])

    def test_health_fails_when_due_messages_wait_for_a_dispatcher_that_does_not_run(self):
        [message] = self.seed("pending", 10)
        crons = self.env["mfg.integration.message"]._dispatch_crons()
        self.assertEqual(len(crons), 2, "two dispatcher slots by default")
        long_ago = fields.Datetime.now() - timedelta(minutes=10)
        message.sudo().write({"next_attempt_at": long_ago})
        crons.write({"lastcall": long_ago})
        body = self.health(503)
        self.assertEqual(body["reasons"], ["dispatcher_not_running"])
        self.assertGreater(body["dispatcher_idle_seconds"], 500)

        crons[1].lastcall = fields.Datetime.now()  # one slot ran a moment ago: the queue is being worked
        body = self.health()
        self.assertNotIn("dispatcher_not_running", body["reasons"])

    def test_health_counts_only_the_key_users_companies(self):
        company_b = self.env["res.company"].create({"name": "Plant B"})
        system_b = self.make_system(code="MES-B", company_id=company_b.id)
        endpoint_b = self.make_endpoint(system_b, "http://127.0.0.1:9/b", self.event_type)
        self.seed("dead", 1, endpoint=endpoint_b, count=2)
        endpoint_b.circuit_open_until = fields.Datetime.now() + timedelta(minutes=5)
        body = self.health()
        self.assertEqual((body["status"], body["dead"], body["open_circuits"]), ("ok", 0, 0))

    def test_auth(self):
        response = self.get("/health")
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.headers["Content-Type"].split(";")[0], "application/problem+json")
        self.assertEqual(self.get("/metrics", "not-a-key").status_code, 401)
        # A monitoring key whose user is no longer an Integration User.
        former = self.make_user("former", "mfg_integration.group_mfg_integration_user")
        key = self.api_key(former)
        former.groups_id = [(3, self.env.ref("mfg_integration.group_mfg_integration_user").id)]
        for path in ("/health", "/metrics"):
            response = self.get(path, key)
            self.assertEqual(response.status_code, 403, response.text)
            self.assertEqual(response.json()["status"], 403)

    def test_health_answers_a_systems_own_key_with_its_own_figures(self):
        technical = self.system.action_create_technical_user()
        system_key = make_api_key(self.env, technical, "mes")
        other = self.make_system(code="MES-OTHER")
        other_endpoint = self.make_endpoint(other, "http://127.0.0.1:9/o", self.event_type)
        self.seed("dead", 1, count=2)
        self.seed("pending", 2, endpoint=other_endpoint, count=3)
        other_endpoint.circuit_open_until = fields.Datetime.now() + timedelta(minutes=5)
        response = self.get("/health", system_key)
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        self.assertEqual((body["status"], body["dead"], body["pending"], body["open_circuits"]), ("degraded", 2, 0, 0))
        # The monitoring key sees the whole company.
        self.assertEqual((self.health(503)["dead"], self.health(503)["pending"]), (2, 3))

    def test_keys_open_only_their_scope(self):
        technical = self.system.action_create_technical_user()
        system_key = make_api_key(self.env, technical, "mes")
        self.assertEqual(self.get("/metrics", system_key).status_code, 401)
        response = self.url_open(
            "/api/mfg/v1/events",
            data="{}",
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/cloudevents+json"},
        )
        self.assertEqual(response.status_code, 401)
        self.assertFalse(self.xmlrpc_common.authenticate(self.env.cr.dbname, self.monitor.login, self.key, {}))

    def test_metrics(self):
        self.seed("pending", 3, count=2)
        self.seed("retry", 3)
        self.seed("dead", 3, endpoint=self.endpoint2)
        for latency in (100, 300):
            self.seed("done", 10, done_minutes_ago=5, latency_ms=latency)
        self.endpoint2.write(
            {"circuit_open_until": fields.Datetime.now() + timedelta(minutes=5), "consecutive_failures": 4}
        )
        self.env["mfg.integration.alert"]._cron_evaluate()
        response = self.get("/metrics", self.key)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        text = response.text
        samples = {}
        for line in text.splitlines():
            if line.startswith("#"):
                self.assertRegex(line, r"^# (HELP|TYPE) mfg_integration_\w+ ")
                continue
            match = re.fullmatch(r"(mfg_integration_\w+)\{([^}]*)\} (-?[0-9.e+]+)", line)
            self.assertTrue(match, line)
            samples[(match[1], match[2])] = float(match[3])
        base = f'system="MES-A",direction="outbound",event_type="{self.event_type.code}"'
        self.assertEqual(samples[("mfg_integration_messages", base + ',state="pending"')], 2)
        self.assertEqual(samples[("mfg_integration_messages", base + ',state="retry"')], 1)
        self.assertEqual(samples[("mfg_integration_messages", base + ',state="dead"')], 1)
        self.assertEqual(samples[("mfg_integration_messages_delivered_24h", base)], 2)
        self.assertEqual(samples[("mfg_integration_messages_failed_24h", base)], 2)
        self.assertEqual(samples[("mfg_integration_delivery_latency_seconds", base + ',quantile="0.5"')], 0.2)
        self.assertAlmostEqual(samples[("mfg_integration_oldest_pending_age_seconds", base)], 180, delta=5)
        self.assertEqual(
            samples[("mfg_integration_endpoint_circuit_open", 'system="MES-A",endpoint="MES A backup"')], 1
        )
        self.assertEqual(
            samples[("mfg_integration_endpoint_circuit_open", 'system="MES-A",endpoint="MES A orders"')], 0
        )
        self.assertEqual(
            samples[("mfg_integration_endpoint_consecutive_failures", 'system="MES-A",endpoint="MES A backup"')], 4
        )
        self.assertEqual(samples[("mfg_integration_alerts_open", 'system="MES-A",kind="circuit"')], 1)
        self.assertEqual(samples[("mfg_integration_alerts_open", 'system="MES-A",kind="dead"')], 1)
        self.assertIn("# TYPE mfg_integration_messages gauge", text)
