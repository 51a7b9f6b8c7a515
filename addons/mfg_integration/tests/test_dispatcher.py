# These tests commit on purpose: the outbox and the dispatcher are about commits and rollbacks.
# pylint: disable=invalid-commit
import threading
from datetime import timedelta

from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from odoo import fields

from .common import CommittedCase
from .receiver import Answer

ORDER = {"reference": "WH/MO/00012", "quantity": 5.0}


class TestDispatcher(CommittedCase):
    def setUp(self):
        super().setUp()
        self.event_type = self.make_event_type()
        self.partner = self.make_partner()

    def subscribe(self, receiver, **vals):
        vals.setdefault("backoff_base", 10.0)
        vals.setdefault("backoff_cap", 600.0)
        endpoint = self.make_endpoint(self.make_system(), receiver.url, self.event_type, **vals)
        self.cr.commit()
        return endpoint

    def emit(self, count=1, record=None):
        Message = self.env["mfg.integration.message"]
        messages = Message.browse()
        for index in range(count):
            data = dict(ORDER, quantity=float(index + 1))
            messages |= Message.emit(self.event_type.code, record or self.partner, data)
        self.cr.commit()
        return messages

    def test_delivery_is_a_signed_cloudevent_verified_by_standardwebhooks(self):
        receiver = self.receiver()
        endpoint = self.subscribe(receiver)
        message = self.emit()
        secret = endpoint._signing_secrets()[0]

        self.assertEqual(self.dispatch(), 1)

        [request] = receiver.received
        # An independent implementation of the Standard Webhooks spec accepts the signature.
        Webhook(secret).verify(request.body, request.headers)
        self.assertEqual(request.headers["Content-Type"], "application/cloudevents+json")
        # The CloudEvents SDK parses and validates the envelope.
        event = JSONFormat().read(CloudEvent, request.body)
        self.assertEqual(event.get_id(), message.event_id)
        self.assertEqual(request.headers["webhook-id"], message.event_id)
        self.assertEqual(event.get_type(), self.event_type.code)
        self.assertEqual(event.get_subject(), "Test record")
        self.assertEqual(event.get_extension("correlationid"), message.correlation_id)
        self.assertEqual(event.get_data(), dict(ORDER, quantity=1.0))
        message = self.refresh(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempt_ids.http_status, 200)
        self.assertTrue(message.done_at and message.first_attempt_at)

    def test_tampered_body_fails_independent_verification(self):
        receiver = self.receiver()
        endpoint = self.subscribe(receiver)
        self.emit()
        self.dispatch()
        [request] = receiver.received
        with self.assertRaises(WebhookVerificationError):
            Webhook(endpoint._signing_secrets()[0]).verify(request.body.replace(b"1.0", b"6.0"), request.headers)

    def test_server_error_is_retried_with_backoff_then_delivered(self):
        receiver = self.receiver().answer(Answer(500))
        endpoint = self.subscribe(receiver, backoff_base=30.0)
        message = self.emit()
        before = fields.Datetime.now()

        self.dispatch()
        message = self.refresh(message)
        self.assertEqual(message.state, "retry")
        self.assertEqual(message.attempt_count, 1)
        self.assertEqual(message.last_http_status, 500)
        # Full jitter: the first retry waits between 0 and base * 2^0 seconds.
        self.assertGreaterEqual(message.next_attempt_at, before - timedelta(seconds=1))
        self.assertLessEqual(message.next_attempt_at, before + timedelta(seconds=endpoint.backoff_base + 2))

        self.assertEqual(self.dispatch(), 0, "not due yet: nothing is sent before the backoff delay")
        self.make_due(message)
        self.dispatch()
        message = self.refresh(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempt_ids.sorted("id").mapped("http_status"), [500, 200])
        self.assertEqual(len(receiver.received), 2)
        self.assertEqual(len(set(receiver.event_ids())), 1, "a retry carries the same event id")

    def test_client_error_is_dead_lettered_without_retry(self):
        receiver = self.receiver().answer(Answer(400, body='{"error": "bad"}'))
        self.subscribe(receiver)
        message = self.emit()
        self.dispatch()
        message = self.refresh(message)
        self.assertEqual(message.state, "dead")
        self.assertEqual(message.attempt_count, 1)
        self.assertIn("400", message.last_error)
        self.make_due(message)
        self.dispatch()
        self.assertEqual(len(receiver.received), 1)

    def test_retry_after_is_honoured(self):
        receiver = self.receiver().answer(Answer(429, headers={"Retry-After": "120"}))
        self.subscribe(receiver, backoff_base=1.0, backoff_cap=5.0)
        message = self.emit()
        before = fields.Datetime.now()
        self.dispatch()
        message = self.refresh(message)
        self.assertEqual(message.state, "retry")
        self.assertGreaterEqual(message.next_attempt_at, before + timedelta(seconds=118))
        self.assertLessEqual(message.next_attempt_at, before + timedelta(seconds=125))

    def test_receiver_down_then_up_loses_nothing(self):
        receiver = self.receiver()
        self.subscribe(receiver, circuit_threshold=10)
        port = receiver.port
        receiver.stop()
        messages = self.emit(3)

        self.dispatch()
        messages = self.refresh(messages)
        self.assertEqual(set(messages.mapped("state")), {"retry"})
        self.assertTrue(all(messages.mapped("last_error")))
        self.assertEqual(messages.attempt_ids.mapped("http_status"), [0, 0, 0])

        receiver.port = port
        receiver.start()
        self.make_due(messages)
        self.dispatch()
        messages = self.refresh(messages)
        self.assertEqual(set(messages.mapped("state")), {"done"})
        self.assertEqual(sorted(receiver.event_ids()), sorted(messages.mapped("event_id")))

    def test_max_attempts_then_dead_letter(self):
        receiver = self.receiver(default=Answer(503))
        self.subscribe(receiver, max_attempts=3, circuit_threshold=10)
        message = self.emit()
        for _attempt in range(3):
            self.dispatch()
            self.make_due(message)
        message = self.refresh(message)
        self.assertEqual(message.state, "dead")
        self.assertEqual(message.attempt_count, 3)
        self.assertEqual(len(receiver.received), 3)

    def dispatch_batches(self, env, batch_size=5):
        return env["mfg.integration.message"]._cron_dispatch(batch_size=batch_size)

    def test_two_dispatchers_at_once_send_each_message_once(self):
        receiver = self.receiver(default=Answer(200, delay=0.01))
        self.subscribe(receiver)
        messages = self.emit(40)
        envs = [self.new_env(), self.new_env()]
        counts = []
        threads = [threading.Thread(target=lambda env=env: counts.append(self.dispatch_batches(env))) for env in envs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        ids = receiver.event_ids()
        self.assertEqual(len(ids), 40)
        self.assertEqual(len(set(ids)), 40, "no message was sent twice")
        self.assertEqual(sum(counts), 40)
        self.assertTrue(all(counts), "both dispatchers took a share of the queue")
        self.assertEqual(set(self.refresh(messages).mapped("state")), {"done"})

    def test_parallel_deliveries_respect_the_endpoint_limit(self):
        receiver = self.receiver(default=Answer(200, delay=0.2))
        self.subscribe(receiver, max_parallel=3)
        messages = self.emit(9)
        self.assertEqual(self.dispatch(), 9)
        self.assertEqual(receiver.max_in_flight, 3)
        self.assertEqual(set(self.refresh(messages).mapped("state")), {"done"})

    def test_open_circuit_stops_trying_a_dead_receiver_but_not_the_others(self):
        dead = self.receiver(default=Answer(503))
        alive = self.receiver()
        # One request at a time, so that exactly `threshold` requests fail before the circuit opens.
        dead_endpoint = self.subscribe(dead, circuit_threshold=2, circuit_cooldown=300, max_parallel=1)
        alive_endpoint = self.subscribe(alive)
        self.emit(5)

        self.dispatch()
        self.assertEqual(len(dead.received), 2, "the circuit opens after 2 failures")
        self.assertEqual(len(alive.received), 5)
        dead_endpoint = self.refresh(dead_endpoint)
        self.assertEqual(dead_endpoint.circuit_state, "open")
        dead_messages = self.messages_of(dead_endpoint)
        self.assertEqual(sorted(dead_messages.mapped("attempt_count")), [0, 0, 0, 1, 1])
        self.assertEqual(set(dead_messages.mapped("state")), {"retry"})
        self.assertEqual(set(self.messages_of(alive_endpoint).mapped("state")), {"done"})

        self.make_due(dead_messages)
        self.dispatch()
        self.assertEqual(len(dead.received), 2, "nothing is tried while the circuit is open")

    def test_half_open_circuit_probes_once_then_closes(self):
        receiver = self.receiver(default=Answer(503))
        endpoint = self.subscribe(receiver, circuit_threshold=1, circuit_cooldown=300, max_parallel=1)
        messages = self.emit(3)
        self.dispatch()
        self.assertEqual(len(receiver.received), 1)

        receiver.default = Answer(200)
        self.cr.execute(
            "UPDATE mfg_integration_endpoint SET circuit_open_until = now() at time zone 'utc' - interval '1 second'"
            " WHERE id = %s",
            [endpoint.id],
        )
        self.cr.execute(
            "UPDATE mfg_integration_message SET next_attempt_at = now() at time zone 'utc' - interval '1 second'"
            " WHERE id = ANY(%s)",
            [messages.ids],
        )
        self.cr.commit()
        self.assertEqual(self.refresh(endpoint).circuit_state, "half_open")
        self.dispatch()
        self.assertEqual(set(self.refresh(messages).mapped("state")), {"done"})
        self.assertEqual(self.refresh(endpoint).circuit_state, "closed")
        self.assertEqual(len(receiver.received), 4, "one failure, then one probe and the two others")

    def test_ordered_endpoint_delivers_messages_about_one_record_in_order(self):
        receiver = self.receiver().answer(Answer(500))
        self.subscribe(receiver, ordered=True, circuit_threshold=10)
        messages = self.emit(3)
        self.dispatch()
        self.assertEqual(len(receiver.received), 1, "later messages wait for the first one")
        self.make_due(messages)
        self.dispatch()
        self.dispatch()
        self.dispatch()
        quantities = [event["data"]["quantity"] for event in receiver.events()]
        self.assertEqual(quantities, [1.0, 1.0, 2.0, 3.0])
        self.assertEqual(set(self.refresh(messages).mapped("state")), {"done"})
