"""The dashboard's numbers, as a support user reads them (real PostgreSQL aggregates)."""

import time

from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL

from odoo.addons.mfg_integration_monitoring.models.mfg_integration_dashboard import WINDOW

from .common import MonitoringFixtures


@tagged("post_install", "-at_install")
class TestDashboardKpis(TransactionCase, MonitoringFixtures):
    def setUp(self):
        super().setUp()
        self.setup_monitoring()
        self.Dashboard = self.env["mfg.integration.dashboard"]

    def card(self, data, endpoint=None, system=None, direction="outbound"):
        system = system or (endpoint.system_id if endpoint else self.system)
        cards = [
            c
            for c in data["cards"]
            if c["system_id"] == system.id
            and c["direction"] == direction
            and c["endpoint_id"] == (endpoint.id if endpoint else False)
        ]
        self.assertEqual(len(cards), 1, data["cards"])
        return cards[0]

    def seed_endpoint_history(self):
        self.seed("pending", 5)
        self.seed("pending", 20)
        self.seed("in_progress", 40)
        self.seed("retry", 120)  # failed, will retry: the oldest waiting message
        self.seed("dead", 60)
        self.seed("dead", 3 * 24 * 60)  # dead for days: a dead letter, not a failure of the last 24 h
        for latency in (100, 200, 300, 1000):
            self.seed("done", 90, done_minutes_ago=30, latency_ms=latency)
        self.seed("done", 3 * 24 * 60, done_minutes_ago=2 * 24 * 60, latency_ms=50_000)  # older than 24 h
        self.seed("cancelled", 10)

    def test_endpoint_card_numbers(self):
        self.seed_endpoint_history()
        data = self.Dashboard.get_dashboard_data()
        card = self.card(data, self.endpoint)
        self.assertEqual(card["system_name"], "MES Line A")
        self.assertEqual(card["endpoint_name"], "MES A orders")
        self.assertEqual(card["pending"], 4)  # pending, in progress and retrying
        self.assertAlmostEqual(card["oldest_pending_age"], 120 * 60, delta=5)
        self.assertEqual(card["delivered_24h"], 4)
        self.assertEqual(card["failed_24h"], 2)  # the retry and the recent dead letter
        self.assertEqual(card["failure_rate"], 33.3)  # 2 failed of 6
        self.assertEqual(card["p50_ms"], 250)
        self.assertEqual(card["p95_ms"], 895)  # percentile_cont: 300 + 0.85 * (1000 - 300)
        self.assertEqual(card["dead"], 2)
        self.assertEqual(card["circuit_state"], "closed")
        self.assertEqual(card["status"], "danger")
        self.assertEqual(data["totals"]["dead"], 2)
        self.assertEqual(data["totals"]["pending"], 4)

    def test_idle_endpoint_and_open_circuit(self):
        self.seed("dead", 30)
        self.endpoint2.write({"circuit_open_until": "2999-01-01 00:00:00", "consecutive_failures": 5})
        data = self.Dashboard.get_dashboard_data()
        idle = self.card(data, self.endpoint2)
        self.assertEqual(
            (idle["pending"], idle["delivered_24h"], idle["failed_24h"], idle["dead"], idle["failure_rate"]),
            (0, 0, 0, 0, None),
        )
        self.assertIsNone(idle["oldest_pending_age"])
        self.assertIsNone(idle["p50_ms"])
        self.assertEqual(idle["circuit_state"], "open")
        self.assertEqual(idle["consecutive_failures"], 5)
        self.assertEqual(data["totals"]["open_circuits"], 1)
        # Failed first: the endpoint with a dead letter, then the open circuit.
        keys = [(c["endpoint_id"]) for c in data["cards"] if c["system_id"] == self.system.id]
        self.assertEqual(keys[:2], [self.endpoint.id, self.endpoint2.id])

    def test_inbound_card(self):
        inbound_type = self.make_event_type(direction="inbound")
        self.system.inbound_event_type_ids = inbound_type
        self.seed("dead", 10, direction="inbound", event_type=inbound_type)
        self.seed("done", 10, direction="inbound", event_type=inbound_type, done_minutes_ago=9, latency_ms=40)
        card = self.card(self.Dashboard.get_dashboard_data(), direction="inbound")
        self.assertEqual((card["dead"], card["failed_24h"], card["delivered_24h"]), (1, 1, 1))
        self.assertEqual(card["p50_ms"], 40)
        self.assertFalse(card["endpoint_id"])

    def test_each_number_opens_the_matching_list(self):
        self.seed_endpoint_history()
        self.seed("dead", 5, endpoint=self.endpoint2)  # another endpoint: never in the first one's lists
        card = self.card(self.Dashboard.get_dashboard_data(), self.endpoint)
        Message = self.env["mfg.integration.message"]
        for kind in ("pending", "delivered_24h", "failed_24h", "dead"):
            action = self.Dashboard.action_open_messages(kind, self.system.id, self.endpoint.id, "outbound")
            self.assertEqual(action["res_model"], "mfg.integration.message")
            self.assertIn("MES A orders", action["name"])
            self.assertEqual(Message.search_count(action["domain"]), card[kind], kind)
        failed = Message.search(
            self.Dashboard.action_open_messages("failed_24h", self.system.id, self.endpoint.id, "outbound")["domain"]
        )
        self.assertEqual(sorted(failed.mapped("state")), ["dead", "retry"])

    def test_queries_use_the_partial_indexes(self):
        """A million-row table: the dashboard reads indexes, never the whole table."""
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO mfg_integration_message
                       (event_id, direction, event_type_id, system_id, endpoint_id, company_id, state,
                        create_date, done_at, latency_ms, attempt_count)
                SELECT gen_random_uuid()::text, 'outbound', %(type)s, %(system)s, %(endpoint)s, %(company)s, 'done',
                       now() at time zone 'utc' - interval '40 days' + i * interval '1 second',
                       now() at time zone 'utc' - interval '40 days' + i * interval '1 second', 120, 1
                  FROM generate_series(1, 200000) i
                """,
                type=self.event_type.id,
                system=self.system.id,
                endpoint=self.endpoint.id,
                company=self.env.company.id,
            )
        )
        self.seed("pending", 5, count=3)
        self.seed("done", 5, done_minutes_ago=1, latency_ms=80, count=3)
        self.env.cr.execute("ANALYZE mfg_integration_message")
        plans = []
        since = self.now - WINDOW
        for by_type in (False, True):
            for query in self.Dashboard._stats_queries(self.env.companies.ids, since, by_type):
                self.env.cr.execute(SQL("EXPLAIN %s", query))
                plans.append("\n".join(row[0] for row in self.env.cr.fetchall()))
        started = time.monotonic()
        data = self.Dashboard.get_dashboard_data()
        elapsed = time.monotonic() - started
        card = self.card(data, self.endpoint)
        self.assertEqual((card["pending"], card["delivered_24h"], card["p50_ms"]), (3, 3, 80))
        self.assertEqual(len(plans), 4)
        for plan in plans:
            self.assertNotIn("Seq Scan on mfg_integration_message", plan, plan)
        self.assertLess(elapsed, 2.0)
