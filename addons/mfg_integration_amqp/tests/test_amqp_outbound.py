# These tests commit on purpose: delivery is about what happens after commit.
# pylint: disable=invalid-commit
"""Outbound AMQP against the real RabbitMQ of setup/test: confirms, persistence, mandatory routing,
broker outages and restarts, topic wildcards, the CloudEvents AMQP binding."""

import json
import threading
import uuid

import pika
from cloudevents.core.formats.json import JSONFormat

from odoo.addons.mfg_integration.tests.common import assert_test_connection

from ..lib import binding
from .common import AmqpCase, RabbitMQ, amqp_url

ORDER = {"reference": "WH/MO/00012", "quantity": 1.0}


class TestAmqpOutbound(AmqpCase):
    def setUp(self):
        super().setUp()
        self.entity = f"test_{uuid.uuid4().hex[:8]}"
        self.released = self.make_event_type(code=f"mfg.{self.entity}.released.v1")
        self.partner = self.make_partner()

    def emit(self, count=1, event_type=None):
        Message = self.env["mfg.integration.message"]
        messages = Message.browse()
        for index in range(count):
            data = dict(ORDER, quantity=float(index + 1))
            messages |= Message.emit((event_type or self.released).code, self.partner, data)
        self.cr.commit()
        return messages

    def dispatch_until_settled(self, messages, rounds=60):
        """Dispatch until every message is delivered or dead; a circuit opened while the broker was down
        is probed after its cooldown (the tests' endpoints use 1 s), so rounds pause half a second."""
        for _round in range(rounds):
            self.dispatch()
            messages = self.refresh(messages)
            if set(messages.mapped("state")) <= {"done", "dead"}:
                return messages
            self.make_due(messages)
            threading.Event().wait(0.5)
        return messages

    def test_a_confirmed_publish_is_a_persistent_structured_cloudevent_routed_by_its_type(self):
        queue = self.bind_queue(self.released.code)
        self.amqp_endpoint(self.released)
        message = self.emit()

        self.assertEqual(self.dispatch(), 1)

        message = self.refresh(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempt_count, 1)
        [(method, properties, body)] = self.drain(queue)
        self.assertEqual(method.routing_key, self.released.code)
        self.assertEqual(method.exchange, self.exchange)
        self.assertEqual(properties.delivery_mode, 2)  # persistent
        self.assertEqual(properties.content_type, binding.STRUCTURED_CONTENT_TYPE)
        self.assertEqual(properties.message_id, message.event_id)
        # An independent CloudEvents implementation reads the envelope.
        event = JSONFormat().read(None, body)
        self.assertEqual(event.get_id(), message.event_id)
        self.assertEqual(event.get_type(), self.released.code)
        self.assertEqual(event.get_data(), ORDER)

    def test_binary_mode_carries_the_attributes_as_cloudevents_application_properties(self):
        queue = self.bind_queue("#")
        self.amqp_endpoint(self.released, amqp_binding="binary", amqp_routing_key="plant.{entity}.{action}")
        message = self.emit()

        self.dispatch()

        [(method, properties, body)] = self.drain(queue)
        self.assertEqual(method.routing_key, f"plant.{self.entity}.released")
        self.assertEqual(properties.content_type, "application/json")
        self.assertEqual(properties.headers["cloudEvents:specversion"], "1.0")
        self.assertEqual(properties.headers["cloudEvents:id"], message.event_id)
        self.assertEqual(properties.headers["cloudEvents:type"], self.released.code)
        self.assertEqual(json.loads(body), ORDER)
        # What an inbound consumer reads back as attributes is the event that was emitted.
        attributes = binding.attributes(properties.headers)
        self.assertEqual(attributes["id"], message.event_id)
        self.assertEqual(attributes["subject"], message.subject)

    def test_a_queue_bound_with_wildcards_receives_the_right_events(self):
        done = self.make_event_type(code=f"mfg.{self.entity}.done.v1")
        other = self.make_event_type(code=f"mfg.other_{self.entity}.released.v1")
        of_entity = self.bind_queue(f"mfg.{self.entity}.#")
        all_releases = self.bind_queue("*.*.released.*")
        self.amqp_endpoint(self.released | done | other)
        sent = {et.code: self.emit(event_type=et).event_id for et in (self.released, done, other)}

        self.dispatch()

        self.assertEqual(
            sorted(p.message_id for _m, p, _b in self.drain(of_entity)),
            sorted([sent[self.released.code], sent[done.code]]),
        )
        self.assertEqual(
            sorted(p.message_id for _m, p, _b in self.drain(all_releases)),
            sorted([sent[self.released.code], sent[other.code]]),
        )

    def test_an_unroutable_event_is_retried_then_dead_lettered_then_replayed_once_a_queue_is_bound(self):
        endpoint = self.amqp_endpoint(self.released, max_attempts=2, circuit_threshold=10)
        message = self.emit()

        self.dispatch()
        message = self.refresh(message)
        self.assertEqual(message.state, "retry")
        self.assertIn("Unroutable", message.last_error)
        self.assertIn(self.released.code, message.last_error)
        self.make_due(message)
        self.dispatch()
        message = self.refresh(message)
        self.assertEqual(message.state, "dead")  # visible in Odoo's dead letters, not dropped
        self.assertEqual(message.attempt_count, 2)

        queue = self.bind_queue(self.released.code)
        replay = message.action_replay()
        self.cr.commit()
        self.dispatch()
        replay = self.refresh(replay)
        self.assertEqual(replay.state, "done")
        self.assertEqual([p.message_id for _m, p, _b in self.drain(queue)], [message.event_id])
        self.assertEqual(self.messages_of(endpoint).mapped("state"), ["dead", "done"])

    def test_broker_down_while_events_are_committed_then_back_delivers_every_event(self):
        queue = self.bind_queue(self.released.code, durable=True)
        self.amqp_endpoint(self.released, circuit_threshold=10, circuit_cooldown=1.0)
        broker = RabbitMQ()
        broker.stop()
        self.addCleanup(self._ensure_started, broker)
        messages = self.emit(5)

        self.dispatch()
        messages = self.refresh(messages)
        self.assertEqual(set(messages.mapped("state")), {"retry"})
        self.assertEqual(messages.attempt_ids.message_id, messages)
        self.assertTrue(all(messages.mapped("last_error")))

        broker.start()
        self.reopen_consumer()
        self.make_due(messages)
        messages = self.dispatch_until_settled(messages)
        self.assertEqual(set(messages.mapped("state")), {"done"})
        received = [p.message_id for _m, p, _b in self.drain(queue)]
        self.assertEqual(set(received), set(messages.mapped("event_id")))  # each CloudEvents id at least once

    def test_a_broker_restart_mid_flow_loses_no_confirmed_or_committed_event(self):
        queue = self.bind_queue(self.released.code, durable=True)
        self.amqp_endpoint(self.released, circuit_threshold=10, circuit_cooldown=1.0, max_parallel=4)
        broker = RabbitMQ()
        self.addCleanup(self._ensure_started, broker)
        messages = self.emit(300)

        dispatcher = threading.Thread(target=self.dispatch)
        dispatcher.start()
        self._wait_for_some_done(messages)
        broker.stop()  # while the dispatcher publishes
        dispatcher.join()
        broker.start()
        self.reopen_consumer()
        # A second batch after the restart: the pooled publishers' connections died with it.
        messages |= self.emit(20)
        self.make_due(messages)
        messages = self.dispatch_until_settled(messages)

        self.assertEqual(set(messages.mapped("state")), {"done"})
        received = [p.message_id for _m, p, _b in self.drain(queue)]
        # Confirmed before the restart: kept by the durable queue (persistent messages); the rest sent after.
        self.assertEqual(set(received), set(messages.mapped("event_id")))

    def test_no_confirm_within_the_timeout_is_a_retry_without_answer(self):
        queue = self.bind_queue(self.released.code)
        self.amqp_endpoint(self.released, timeout=2.0, circuit_threshold=10)
        broker = RabbitMQ()
        broker.block_publishers()
        self.addCleanup(broker.block_publishers, False)
        message = self.emit()

        self.dispatch()
        message = self.refresh(message)
        self.assertEqual(message.state, "retry")
        self.assertIn("No publisher confirm within 2 s", message.last_error)

        broker.block_publishers(False)
        self.make_due(message)
        message = self.dispatch_until_settled(message)
        self.assertEqual(message.state, "done")
        # The blocked publish may have reached the queue once the alarm cleared: at least once, same id.
        self.assertEqual({p.message_id for _m, p, _b in self.drain(queue)}, {message.event_id})

    def _wait_for_some_done(self, messages):
        for _poll in range(600):
            self.cr.execute(
                "SELECT count(*) FROM mfg_integration_message WHERE id = ANY(%s) AND state = 'done'", [messages.ids]
            )
            if self.cr.fetchone()[0] >= 10:
                self.cr.commit()
                return
            self.cr.commit()
            threading.Event().wait(0.05)
        raise AssertionError("the dispatcher delivered nothing")

    @staticmethod
    def _ensure_started(broker):
        broker.start()  # idempotent: a failed test must not leave the broker down for the next ones

    def test_test_connection_tells_whether_the_broker_lets_us_in(self):
        self.broker.password = "not-the-password"
        result = self.broker.action_test_connection()
        self.assertEqual(result["params"]["type"], "danger")
        self.assertIn("Authentication", result["params"]["message"])
        self.broker.password = pika.URLParameters(amqp_url()).credentials.password
        assert_test_connection(self, self.broker, "AMQPConnectionError")
