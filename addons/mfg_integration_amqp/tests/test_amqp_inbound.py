# These tests commit on purpose: the runner stores each broker message in a transaction of its own.
# pylint: disable=invalid-commit
"""Inbound AMQP against the real RabbitMQ: a publisher (the counterpart) sends CloudEvents to the system's
queue; the consumer stores them in the inbox and acknowledges each only after that."""

import json
import time
import uuid

import pika

from odoo.addons.mfg_integration.models.mfg_integration_broker_consumer import store_received

from ..lib.consumer import dead_letter_queue
from .common import AmqpCase, amqp_url

CODE_MAPPING = "mfg.integration.code_mapping.reported.v1"


class Crash(Exception):
    """The Odoo process dies at this point (nothing after it runs)."""


class TestAmqpInbound(AmqpCase):
    def setUp(self):
        super().setUp()
        self.queue = f"mfg.test.inbound.{uuid.uuid4().hex[:8]}"
        self.addCleanup(self._delete_queue, self.queue)
        self.addCleanup(self._delete_queue, dead_letter_queue(self.queue))
        self.system = self.make_system(
            inbound_event_type_ids=[(6, 0, self.env.ref("mfg_integration.event_type_code_mapping_reported").ids)],
            amqp_broker_id=self.broker.id,
            amqp_queue=self.queue,
            amqp_prefetch=5,
        )
        self.user = self.system.action_create_technical_user()
        self.cr.commit()
        self.addCleanup(self._remove_user)
        [self.consumer_under_test] = [
            c for c in self.env["mfg.integration.system"]._mfg_broker_consumers() if c.system_id == self.system.id
        ]
        self.external_code = f"ART-{uuid.uuid4().hex[:6]}"

    def _remove_user(self):
        env = self.new_env()
        env["res.users"].browse(self.user.id).unlink()
        env.cr.commit()

    def event(self, event_id=None, **changes):
        event = {
            "specversion": "1.0",
            "id": event_id or str(uuid.uuid4()),
            "source": "urn:test:backbone",
            "type": CODE_MAPPING,
            "time": "2026-11-22T10:00:00Z",
            "data": {"kind": "uom", "external_code": self.external_code, "odoo_code": "Units"},
        }
        event.update(changes)
        return event

    def publish(self, *bodies, headers=None):
        """The counterpart publishes to the system's queue (default exchange), persistent, confirmed."""
        with pika.BlockingConnection(pika.URLParameters(amqp_url())) as connection:
            channel = connection.channel()
            channel.confirm_delivery()
            for body in bodies:
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                properties = pika.BasicProperties(delivery_mode=2, headers=headers)
                channel.basic_publish("", self.queue, raw, properties, mandatory=True)

    def declare(self):
        """The consumer declares its queue on first start; this start receives nothing yet."""
        self.consume(stop_after=0)

    def consume(self, stop_after, store=None):
        """Run the consumer until it handled ``stop_after`` messages (or the queue stayed empty for a poll)."""
        consumer = self.consumer_under_test
        handled = []

        def counting_store(raw, attributes=None):
            result = (store or self.store)(raw, attributes)
            handled.append(result)
            return result

        idle = []

        def should_stop():
            idle.append(1)
            return len(handled) >= stop_after or len(idle) > 50 + 3 * stop_after

        consumer.run(counting_store, should_stop)
        return handled

    def store(self, raw, attributes=None):
        return store_received(self.registry, self.consumer_under_test, raw, attributes)

    def queue_depth(self, queue):
        with pika.BlockingConnection(pika.URLParameters(amqp_url())) as connection:
            return connection.channel().queue_declare(queue, passive=True).method.message_count

    def requeued_depth(self, queue, timeout=10):
        """The queue's depth once the unacknowledged messages of a closed consumer are back (the broker
        requeues them after it has processed the closed connection: not at once under load)."""
        deadline = time.monotonic() + timeout
        while not self.queue_depth(queue) and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.queue_depth(queue)

    def inbox(self):
        self.cr.commit()
        return self.env["mfg.integration.message"].search(
            [("system_id", "=", self.system.id), ("direction", "=", "inbound")]
        )

    def mappings(self):
        """The code mappings the inbox applied (asynchronously: broker events are received with
        prefer_async, then applied by the inbound cron)."""
        env = self.new_env()
        env["mfg.integration.message"]._cron_process_inbound(time_budget=30)
        env.cr.commit()
        self.cr.commit()
        return self.env["mfg.integration.code.mapping"].search(
            [("system_id", "=", self.system.id), ("external_code", "=", self.external_code)]
        )

    def test_events_from_the_queue_are_stored_in_the_inbox_then_acknowledged(self):
        self.declare()
        event = self.event()
        self.publish(event)
        [result] = self.consume(stop_after=1)
        self.assertTrue(result.message_id)
        [message] = self.inbox()
        self.assertEqual(message.event_id, event["id"])
        self.assertEqual(self.queue_depth(self.queue), 0)  # acknowledged
        self.assertEqual(self.queue_depth(dead_letter_queue(self.queue)), 0)
        self.assertEqual(self.mappings().target_ref.name, "Units")

    def test_binary_mode_events_are_read_from_cloudevents_headers(self):
        self.declare()
        event = self.event()
        headers = {f"cloudEvents:{name}": value for name, value in event.items() if name != "data"}
        self.publish(event["data"], headers=headers)
        [result] = self.consume(stop_after=1)
        self.assertTrue(result.message_id)
        self.assertEqual(self.inbox().event_id, event["id"])

    def test_hostile_messages_are_dead_lettered_without_stopping_the_consumer(self):
        self.declare()
        good = self.event()
        self.publish(
            b"not json",
            b"\xff\xfe\x00",
            json.dumps({"a": 1} | {"n": "x" * 2_000_000}).encode(),  # over the system's body limit
            self.event(type="mfg.not_allowed.type.v1"),
            [1, 2, 3],
            good,
        )
        results = self.consume(stop_after=6)
        self.assertEqual([r.message_id is None for r in results], [True] * 5 + [False])
        self.assertEqual(self.inbox().mapped("event_id"), [good["id"]])
        self.assertEqual(self.queue_depth(self.queue), 0)
        self.assertEqual(self.queue_depth(dead_letter_queue(self.queue)), 5)  # refused, never silently lost

    def test_a_crash_before_storage_leaves_the_message_to_the_broker_which_delivers_it_again(self):
        self.declare()
        event = self.event()
        self.publish(event)

        def crash_before_storing(raw, attributes=None):
            raise Crash()

        with self.assertRaises(Crash):
            self.consume(stop_after=1, store=crash_before_storing)
        self.assertFalse(self.inbox())
        self.assertEqual(self.requeued_depth(self.queue), 1)  # not acknowledged: redelivered

        self.consume(stop_after=1)
        self.assertEqual(self.inbox().event_id, event["id"])
        self.assertEqual(len(self.mappings()), 1)

    def test_a_crash_after_storage_before_the_ack_applies_the_redelivered_event_once(self):
        self.declare()
        event = self.event()
        self.publish(event)

        def crash_after_storing(raw, attributes=None):
            self.store(raw, attributes)
            raise Crash()

        with self.assertRaises(Crash):
            self.consume(stop_after=1, store=crash_after_storing)
        self.assertEqual(self.requeued_depth(self.queue), 1)  # stored, not acknowledged: redelivered

        [again] = self.consume(stop_after=1)
        self.assertEqual(self.queue_depth(self.queue), 0)
        self.assertEqual(len(self.inbox()), 1)  # idempotency by CloudEvents id
        self.assertEqual(len(self.mappings()), 1)  # applied once
        self.assertEqual(again.message_id, self.inbox().id)

    def test_prefetch_bounds_the_unacknowledged_messages(self):
        self.declare()
        self.publish(*[self.event() for _index in range(12)])
        in_flight = []

        def observe(raw, attributes=None):
            with pika.BlockingConnection(pika.URLParameters(amqp_url())) as connection:
                method = connection.channel().queue_declare(self.queue, passive=True).method
                in_flight.append(12 - len(in_flight) - method.message_count)
            return self.store(raw, attributes)

        self.consume(stop_after=12, store=observe)
        self.assertLessEqual(max(in_flight), 5)
        self.assertEqual(len(self.inbox()), 12)
