# These tests commit on purpose: the runner stores each broker message in a transaction of its own.
# pylint: disable=invalid-commit
import json
import threading
import uuid

from ..lib.consumer import Consumer
from ..models.mfg_integration_broker_consumer import _Run, store_received
from .common import CommittedCase

CODE_MAPPING = "mfg.integration.code_mapping.reported.v1"


class BlockingConsumer(Consumer):
    """Stays subscribed until told to stop, like a broker consumer with nothing to receive."""

    transport = "test"

    def __init__(self, key, system_id):
        super().__init__(key, system_id)
        self.started = threading.Event()

    def run(self, store, should_stop):
        self.connected = True
        self.started.set()
        while not should_stop():
            threading.Event().wait(0.05)


class TestBrokerConsumer(CommittedCase):
    def setUp(self):
        super().setUp()
        self.system = self.make_system(
            inbound_event_type_ids=[(6, 0, self.env.ref("mfg_integration.event_type_code_mapping_reported").ids)]
        )
        self.user = self.system.action_create_technical_user()
        self.cr.commit()
        self.addCleanup(self._remove_user)

    def _remove_user(self):
        env = self.new_env()
        env["res.users"].browse(self.user.id).unlink()
        env.cr.commit()

    def event(self, event_id=None):
        return {
            "specversion": "1.0",
            "id": event_id or str(uuid.uuid4()),
            "source": "urn:test:broker",
            "type": CODE_MAPPING,
            "time": "2026-11-22T10:00:00Z",
            "data": {"kind": "product", "external_code": "ART-77", "odoo_code": "COMP-1"},
        }

    def run_consumer(self, key, stop):
        run = _Run(self.registry, BlockingConsumer(key, self.system.id), stop)
        run.start()
        run.locked.wait()
        self.addCleanup(run.thread.join, 10)
        self.addCleanup(stop.set)
        return run

    def test_the_advisory_lock_keeps_a_second_runner_of_the_same_consumer_out(self):
        key = f"test:{self.system.id}"
        first_stop, second_stop, third_stop = threading.Event(), threading.Event(), threading.Event()
        first = self.run_consumer(key, first_stop)
        self.assertTrue(first.holds_lock)
        self.assertTrue(first.consumer.started.wait(10))
        second = self.run_consumer(key, second_stop)
        self.assertFalse(second.holds_lock)
        self.assertTrue(second.finished.wait(10))
        self.assertFalse(second.consumer.started.is_set(), "the second runner never connected")
        # Another consumer is not kept out.
        other = self.run_consumer(f"test:other:{self.system.id}", threading.Event())
        self.assertTrue(other.holds_lock)
        # The first runner stops (or its process dies): its connection closes, the lock is free.
        first_stop.set()
        self.assertTrue(first.finished.wait(10))
        third = self.run_consumer(key, third_stop)
        self.assertTrue(third.holds_lock)

    def stored(self, raw, attributes=None):
        consumer = BlockingConsumer(f"test:{self.system.id}", self.system.id)
        return store_received(self.registry, consumer, raw, attributes)

    def test_a_received_event_is_committed_in_the_inbox_as_the_technical_user_before_returning(self):
        event = self.event()
        result = self.stored(json.dumps(event).encode())
        self.assertTrue(result.message_id)
        self.assertEqual(result.body["status"], "pending")
        message = self.refresh(self.env["mfg.integration.message"].browse(result.message_id))
        self.assertEqual(
            (message.direction, message.system_id, message.sender_user_id, message.event_id),
            ("inbound", self.system, self.user, event["id"]),
        )
        # The broker redelivers it (no acknowledgement reached it): the same message, stored once.
        again = self.stored(json.dumps(event).encode())
        self.assertEqual(again.message_id, message.id)
        self.assertEqual(self.env["mfg.integration.message"].search_count([("system_id", "=", self.system.id)]), 1)

    def test_binary_mode_attributes_make_the_same_event(self):
        event = self.event()
        attributes = {name: value for name, value in event.items() if name != "data"}
        result = self.stored(json.dumps(event["data"]).encode(), attributes)
        message = self.refresh(self.env["mfg.integration.message"].browse(result.message_id))
        self.assertEqual(json.loads(message.payload)["data"], event["data"])

    def test_hostile_or_invalid_messages_are_refused_without_being_stored(self):
        not_allowed = dict(self.event(), type="mfg.production.performance_reported.v1")
        wrong_schema = dict(self.event(), data={"kind": 42})
        cases = {
            b"not json": "malformed",
            b"{" + b" " * (1024 * 1024) + b"}": "too_large",
            json.dumps(dict(self.event(), type="mfg.nobody.knows.v1")).encode(): "refused",
            json.dumps(wrong_schema).encode(): "refused",
            json.dumps(not_allowed).encode(): "forbidden",
            b"[1, 2]": "refused",
        }
        for raw, kind in cases.items():
            result = self.stored(raw)
            self.assertIsNone(result.message_id, raw[:40])
            self.assertEqual(result.kind, kind, result.body)
            self.assertTrue(result.body["title"], result.body)
        self.assertEqual(self.env["mfg.integration.message"].search_count([("system_id", "=", self.system.id)]), 0)

    def test_a_system_without_technical_user_leaves_the_message_to_its_broker(self):
        self.user.active = False
        self.cr.commit()
        with self.assertRaisesRegex(RuntimeError, "no active technical user"):
            self.stored(json.dumps(self.event()).encode())
