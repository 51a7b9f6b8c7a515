# These tests commit on purpose: the runner stores each message in a transaction of its own.
# pylint: disable=invalid-commit
import base64
import json
import threading
import time
import uuid

from odoo.exceptions import ValidationError

from .common import MqttCase, Subscriber, publish

CODE_MAPPING = "mfg.integration.code_mapping.reported.v1"
RUN_SECONDS = 8


class TestMqttInbound(MqttCase):
    def setUp(self):
        super().setUp()
        self.prefix = f"plant{uuid.uuid4().hex[:6]}"
        self.system = self.make_system(
            inbound_event_type_ids=[(6, 0, self.env.ref("mfg_integration.event_type_code_mapping_reported").ids)],
            mqtt_broker_id=self.broker.id,
            mqtt_topic_filter=f"{self.prefix}/+/mes/#",
        )
        self.user = self.system.action_create_technical_user()
        self.cr.commit()
        self.addCleanup(self._remove_user)

    def _remove_user(self):
        env = self.new_env()
        env["mfg.integration.broker.consumer"].search([("system_id", "=", self.system.id)]).unlink()
        env["res.users"].browse(self.user.id).unlink()
        env.cr.commit()

    def event(self, external_code="ART-77"):
        return {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "urn:test:mes",
            "type": CODE_MAPPING,
            "time": "2026-11-22T10:00:00Z",
            "data": {"kind": "product", "external_code": external_code, "odoo_code": "COMP-1"},
        }

    def run_consumers(self, seconds=RUN_SECONDS):
        """The cron's run, in a thread as in a cron worker, for ``seconds``; returns the held keys."""
        held = []

        def run():
            env = self.new_env()
            held.extend(env["mfg.integration.broker.consumer"]._cron_run_broker_consumers(time_budget=seconds))

        runner = threading.Thread(target=run)
        runner.start()
        return runner, held

    def open_session(self):
        """A first run subscribes the system: from then on the broker keeps its messages (persistent session)
        while no runner is connected."""
        runner, held = self.run_consumers(seconds=3)
        runner.join()
        self.assertEqual(held, [f"mqtt:{self.system.id}"])

    def consumer_state(self):
        self.cr.commit()  # a fresh snapshot: what the runner committed
        return self.env["mfg.integration.broker.consumer"].search([("key", "=", f"mqtt:{self.system.id}")])

    def inbox(self):
        self.cr.commit()
        return self.env["mfg.integration.message"].search([("system_id", "=", self.system.id)], order="id")

    def wait_inbox(self, count, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.inbox()
            if len(messages) >= count:
                return messages
            time.sleep(0.2)
        self.fail(f"{len(self.inbox())} of {count} events in the inbox")

    def test_events_published_on_the_subscribed_topics_reach_the_inbox_as_the_technical_user(self):
        events = [self.event(f"ART-{index}") for index in range(3)]
        self.open_session()
        # Published while no runner is connected: kept by the broker in the system's session.
        publish(f"{self.prefix}/NP/mes/reports", json.dumps(events[0]))
        publish(f"{self.prefix}/SP/mes/line1/reports", json.dumps(events[1]))
        publish(f"{self.prefix}/NP/erp/reports", json.dumps(self.event("NOT-SUBSCRIBED")))
        runner, held = self.run_consumers()
        # Published while the runner is connected, in binary mode (MQTT 5 user properties).
        binary = events[2]
        attributes = {name: value for name, value in binary.items() if name != "data"}
        time.sleep(1)
        publish(f"{self.prefix}/NP/mes/reports", json.dumps(binary["data"]), attributes)
        messages = self.wait_inbox(3)
        runner.join()
        self.assertEqual(held, [f"mqtt:{self.system.id}"])
        self.assertEqual(sorted(messages.mapped("event_id")), sorted(event["id"] for event in events))
        self.assertEqual(set(messages.mapped("sender_user_id")), {self.user})
        self.assertEqual(set(messages.mapped("direction")), {"inbound"})
        state = self.consumer_state()
        self.assertEqual((state.transport, state.message_count, state.refused_count), ("mqtt", 3, 0))
        self.assertTrue(state.heartbeat_at)

    def test_the_same_event_published_twice_is_stored_once(self):
        event = self.event()
        self.open_session()
        for _copy in range(2):
            publish(f"{self.prefix}/NP/mes/reports", json.dumps(event))
        runner, _held = self.run_consumers()
        runner.join()
        self.assertEqual(self.inbox().mapped("event_id"), [event["id"]])

    def test_a_message_is_acknowledged_only_once_stored(self):
        """The technical user is archived: storing fails, the message is not acknowledged and the broker
        keeps it in the system's session; once the user is back, the next run stores it."""
        self.open_session()
        self.user.active = False
        self.cr.commit()
        event = self.event()
        publish(f"{self.prefix}/NP/mes/reports", json.dumps(event))
        runner, _held = self.run_consumers(seconds=4)
        runner.join()
        self.assertFalse(self.inbox())
        state = self.consumer_state()
        self.assertIn("no active technical user", state.last_error)
        self.user.active = True
        self.cr.commit()
        runner, _held = self.run_consumers()
        self.assertEqual(self.wait_inbox(1).mapped("event_id"), [event["id"]])
        runner.join()

    def test_hostile_messages_go_to_the_dead_letter_topic_without_stopping_the_consumer(self):
        self.open_session()
        dead_letters = Subscriber(f"mfg/deadletter/{self.system.code}")
        self.addCleanup(dead_letters.close)
        hostile = {
            b"not json": "malformed",
            b"{" + b" " * (1024 * 1024 + 10) + b"}": "too_large",
            json.dumps(dict(self.event(), type="mfg.nobody.knows.v1")).encode(): "refused",
            json.dumps(dict(self.event(), data={"kind": 42})).encode(): "refused",
        }
        for payload in hostile:
            publish(f"{self.prefix}/NP/mes/reports", payload)
        valid = self.event()
        publish(f"{self.prefix}/NP/mes/reports", json.dumps(valid))
        runner, _held = self.run_consumers()
        self.assertEqual(self.wait_inbox(1).mapped("event_id"), [valid["id"]])
        letters = [json.loads(message.payload) for message in dead_letters.wait_for(4)]
        runner.join()
        self.assertEqual([letter["kind"] for letter in letters], list(hostile.values()))
        self.assertEqual([base64.b64decode(letter["payload_base64"]) for letter in letters], list(hostile))
        self.assertEqual({letter["topic"] for letter in letters}, {f"{self.prefix}/NP/mes/reports"})
        state = self.consumer_state()
        self.assertEqual((state.message_count, state.refused_count), (5, 4))

    def test_an_invalid_topic_filter_is_refused_at_save(self):
        for topic_filter in ("plant/#/mes", "plant/mes+", ""):
            with self.assertRaises(ValidationError, msg=topic_filter):
                self.system.mqtt_topic_filter = topic_filter
                self.system.flush_recordset()
            self.cr.rollback()
