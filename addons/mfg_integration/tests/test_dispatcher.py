# These tests commit on purpose: the outbox and the dispatcher are about commits and rollbacks.
# pylint: disable=invalid-commit
import os
import tempfile
import threading
from datetime import timedelta
from unittest.mock import patch

from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from odoo import fields
from odoo.exceptions import UserError
from odoo.tools import config

from simulators.mfgsim.scripted_receiver import Answer

from ..models.mfg_integration_message import LEASE_RENEWAL, LEASE_SECONDS
from ..models.res_company import ADMIN_NETWORKS_PARAM
from ..models.secret_store import secret_box
from .common import CommittedCase

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
        # Header names are case-insensitive: a lower-case retry-after counts.
        receiver = self.receiver().answer(Answer(429, headers={"retry-after": "120"}))
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
        # Every message tried, no answer recorded (full jitter may make a retry due at once: tried again).
        self.assertEqual(messages.attempt_ids.message_id, messages)
        self.assertEqual(set(messages.attempt_ids.mapped("http_status")), {0})

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
        return env["mfg.integration.message"]._cron_dispatch(batch_size=batch_size, linger=0)

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

    def test_an_answer_slower_than_the_lease_renewal_is_recorded_once(self):
        # The dispatcher wakes up every LEASE_RENEWAL seconds without any answer, renews the lease,
        # records nothing, and records the answer when it comes.
        receiver = self.receiver(default=Answer(200, delay=LEASE_RENEWAL + 1))
        self.subscribe(receiver, timeout=LEASE_RENEWAL + 10)
        message = self.emit()
        self.assertEqual(self.dispatch(), 1)
        message = self.refresh(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempt_ids.mapped("http_status"), [200])
        self.assertEqual(len(receiver.received), 1)

    def test_parallel_deliveries_respect_the_endpoint_limit(self):
        receiver = self.receiver(default=Answer(200, delay=0.2))
        self.subscribe(receiver, max_parallel=3)
        messages = self.emit(9)
        self.assertEqual(self.dispatch(), 9)
        self.assertEqual(receiver.max_in_flight, 3)
        self.assertEqual(set(self.refresh(messages).mapped("state")), {"done"})

    def test_open_circuit_stops_trying_a_dead_receiver_but_not_the_others(self):
        dead = self.receiver()
        alive = self.receiver()
        # One request at a time, so that exactly `threshold` attempts fail before the circuit opens.
        dead_endpoint = self.subscribe(dead, circuit_threshold=2, circuit_cooldown=30, max_parallel=1)
        alive_endpoint = self.subscribe(alive)
        dead.stop()
        self.emit(5)

        self.dispatch()
        dead_endpoint = self.refresh(dead_endpoint)
        self.assertEqual(dead_endpoint.circuit_state, "open", "2 connections refused in a row open the circuit")
        dead_messages = self.messages_of(dead_endpoint)
        self.assertEqual(sorted(dead_messages.mapped("attempt_count")), [0, 0, 0, 1, 1])
        self.assertEqual(set(dead_messages.mapped("state")), {"retry"})
        self.assertEqual(len(alive.received), 5)
        self.assertEqual(set(self.messages_of(alive_endpoint).mapped("state")), {"done"})

        self.make_due(dead_messages)
        self.dispatch()
        attempts = sum(self.messages_of(dead_endpoint).mapped("attempt_count"))
        self.assertEqual(attempts, 2, "nothing is tried while the circuit is open")

    def test_server_errors_open_the_circuit_on_the_failure_ratio(self):
        receiver = self.receiver(default=Answer(503))
        endpoint = self.subscribe(receiver, max_parallel=1)
        self.emit(12)
        self.dispatch()
        self.assertEqual(len(receiver.received), 10, "10 failures, half of the window of 20, open the circuit")
        endpoint = self.refresh(endpoint)
        self.assertEqual(endpoint.circuit_state, "open")
        self.assertEqual((endpoint.circuit_history, endpoint.consecutive_failures), ("f" * 10, 10))

    def test_a_ten_percent_flaky_receiver_never_opens_the_circuit(self):
        # Every 10th answer is a 500, scattered over several dispatcher batches.
        receiver = self.receiver(default=Answer(200))
        receiver.answer(*[Answer(500) if index % 10 == 3 else Answer(200) for index in range(60)])
        endpoint = self.subscribe(receiver, max_parallel=2)
        messages = self.emit(60)
        self.dispatch_batches(self.new_env(), batch_size=7)
        endpoint = self.refresh(endpoint)
        self.assertEqual(endpoint.circuit_state, "closed")
        self.assertEqual(endpoint.circuit_history.count("f"), 2, "the window holds the last 20 outcomes")
        self.assertEqual(len(endpoint.circuit_history), 20)
        self.make_due(messages)
        self.dispatch()
        self.assertEqual(set(self.refresh(messages).mapped("state")), {"done"})
        self.assertEqual(len(receiver.received), 66)

    def test_half_open_circuit_probes_once_then_closes(self):
        receiver = self.receiver()
        endpoint = self.subscribe(receiver, circuit_threshold=1, circuit_cooldown=30, max_parallel=1)
        port = receiver.port
        receiver.stop()
        messages = self.emit(3)
        self.dispatch()
        self.assertEqual(sum(self.refresh(messages).mapped("attempt_count")), 1)
        self.assertEqual(self.refresh(endpoint).circuit_state, "open")

        receiver.port = port
        receiver.start()
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
        self.assertEqual(len(receiver.received), 3, "one probe, then the two others")

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

    def test_a_killed_dispatchers_messages_are_claimable_again_within_the_lease(self):
        receiver = self.receiver()
        # A slow endpoint and a full batch: the lease still covers one renewal period, not the batch.
        self.subscribe(receiver, timeout=120.0)
        messages = self.emit(50)
        crashed = self.new_env()
        crashed["mfg.integration.message"]._claim_due(50)
        crashed.cr.execute("SELECT clock_timestamp() AT TIME ZONE 'UTC'")
        [claimed_at] = crashed.cr.fetchone()
        crashed.cr.commit()  # the claim is committed, then the dispatcher is killed: nothing is ever sent
        messages = self.refresh(messages)
        self.assertEqual(set(messages.mapped("state")), {"in_progress"})
        lease = max(messages.mapped("claimed_until")) - claimed_at
        self.assertLessEqual(lease.total_seconds(), LEASE_SECONDS)
        self.assertEqual(self.dispatch(), 0, "a live lease is respected")

        self.cr.execute(
            "UPDATE mfg_integration_message SET claimed_until = claimed_until - make_interval(secs => %s)"
            " WHERE id = ANY(%s)",
            [LEASE_SECONDS, messages.ids],
        )
        self.cr.commit()
        self.assertEqual(self.dispatch(), 50)
        self.assertEqual(set(self.refresh(messages).mapped("state")), {"done"})
        self.assertEqual(sorted(receiver.event_ids()), sorted(messages.mapped("event_id")))

    def test_a_claim_takes_expired_leases_first_and_never_more_than_its_batch(self):
        receiver = self.receiver()
        self.subscribe(receiver)
        messages = self.emit(6)
        crashed = self.new_env()
        expired = crashed["mfg.integration.message"]._claim_due(3)
        crashed.cr.execute(
            "UPDATE mfg_integration_message SET claimed_until = claimed_until - make_interval(secs => %s)"
            " WHERE id = ANY(%s)",
            [LEASE_SECONDS + 1, [delivery.message_id for delivery in expired]],
        )
        crashed.cr.commit()
        newest_first = messages.sorted("id", reverse=True)
        self.cr.execute(
            "UPDATE mfg_integration_message SET next_attempt_at = next_attempt_at - make_interval(secs => %s)"
            " WHERE id = %s",
            [60, newest_first[0].id],
        )
        self.cr.commit()

        # A dead dispatcher's messages are not put behind the flow of due messages, even one due earlier.
        first = self.new_env()
        claimed = first["mfg.integration.message"]._claim_due(3)
        first.cr.commit()
        self.assertEqual(
            [delivery.message_id for delivery in claimed], sorted(delivery.message_id for delivery in expired)
        )
        # The claim locked due messages too, but leased only its batch: they are all still due.
        self.assertEqual(set(self.refresh(newest_first[:3]).mapped("state")), {"pending"})
        second = self.new_env()
        rest = second["mfg.integration.message"]._claim_due(50)
        second.cr.commit()
        self.assertEqual([delivery.message_id for delivery in rest], sorted(newest_first[:3].ids))
        self.assertEqual(set(self.refresh(messages).mapped("state")), {"in_progress"})

    def test_latency_is_exact_and_never_negative(self):
        receiver = self.receiver(default=Answer(200, delay=0.05))
        self.subscribe(receiver)
        messages = self.refresh(self.emit(5))
        self.dispatch()
        for message in self.refresh(messages):
            self.assertEqual(message.state, "done")
            exact = (message.done_at - message.queued_at).total_seconds() * 1000
            self.assertGreaterEqual(message.latency_ms, 50, "at least the receiver's answer time")
            self.assertAlmostEqual(message.latency_ms, exact, delta=1)
            self.assertGreaterEqual(message.first_attempt_at, message.queued_at)

    def test_archiving_a_system_stops_emit_at_once(self):
        receiver = self.receiver()
        endpoint = self.subscribe(receiver)
        self.assertEqual(len(self.emit()), 1)
        endpoint.system_id.active = False
        self.cr.commit()
        self.assertFalse(self.emit(), "no message is queued for an archived system's endpoints")
        endpoint.system_id.active = True
        endpoint.active = False
        self.cr.commit()
        self.assertFalse(self.emit())

    def test_emit_wakes_every_active_dispatcher_slot(self):
        Message = self.env["mfg.integration.message"]
        slots = Message._dispatch_crons()
        self.assertEqual(len(slots), 2, "two dispatcher slots by default")
        self.subscribe(self.receiver())
        Message.emit(self.event_type.code, self.partner, ORDER)
        self.env.flush_all()
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "in", slots.ids)])
        self.assertEqual(set(triggers.mapped("cron_id")), set(slots))
        self.cr.rollback()

    def test_due_messages_are_dispatched_right_after_a_server_start(self):
        receiver = self.receiver()
        self.subscribe(receiver)
        self.emit(2)
        self.env["ir.cron.trigger"].search([]).unlink()
        self.env["mfg.integration.message"]._register_hook()  # what a server start runs
        self.env.flush_all()
        slots = self.env["mfg.integration.message"]._dispatch_crons()
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "in", slots.ids)])
        self.assertEqual(set(triggers.mapped("cron_id")), set(slots))
        self.assertTrue(all(trigger.call_at <= fields.Datetime.now() for trigger in triggers))
        self.cr.rollback()

    def test_a_dead_dispatchers_leases_are_taken_over_after_a_server_start_once_expired(self):
        receiver = self.receiver()
        self.subscribe(receiver)
        messages = self.emit(2)
        # A dispatcher killed with both leased: one lease ends in 20.4 s, the other later.
        self.env.cr.execute(
            """
            UPDATE mfg_integration_message
               SET state = 'in_progress', claimed_until = now() AT TIME ZONE 'UTC' + interval '20.4 seconds'
                   + (id - %s) * interval '5 seconds'
             WHERE id IN %s
            """,
            (min(messages.ids), tuple(messages.ids)),
        )
        self.env["ir.cron.trigger"].search([]).unlink()
        self.env["mfg.integration.message"]._register_hook()  # what a server start runs
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT min(claimed_until) FROM mfg_integration_message WHERE id IN %s", (tuple(messages.ids),)
        )
        lease_end = self.env.cr.fetchone()[0]
        slots = self.env["mfg.integration.message"]._dispatch_crons()
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "in", slots.ids)])
        self.assertEqual(set(triggers.mapped("cron_id")), set(slots))
        # A run at once, which lingers until the first lease ends (the next due moment it sees), and
        # one just after that end (whole seconds), should that run have stopped before.
        now = fields.Datetime.now()
        for slot in slots:
            call_ats = sorted(triggers.filtered(lambda trigger, slot=slot: trigger.cron_id == slot).mapped("call_at"))
            self.assertEqual(len(call_ats), 2, call_ats)
            self.assertLessEqual(call_ats[0], now)
            self.assertTrue(lease_end < call_ats[1] <= lease_end + timedelta(seconds=1), (call_ats, lease_end))
        next_due = self.env["mfg.integration.message"]._seconds_until_next_due(60)
        self.assertIsNotNone(next_due, "a dispatcher lingers for a lease ending within its horizon")
        self.assertTrue(15 < next_due <= 20.4, next_due)
        self.assertIsNone(self.env["mfg.integration.message"]._seconds_until_next_due(10), "beyond the horizon")
        self.cr.rollback()

    def test_a_loopback_receiver_is_refused_unless_an_administrator_allows_it(self):
        receiver = self.receiver()
        self.subscribe(receiver)
        params = self.env["ir.config_parameter"]
        allowed = params.get_param(ADMIN_NETWORKS_PARAM)
        params.set_param(ADMIN_NETWORKS_PARAM, "")
        self.cr.commit()
        try:
            message = self.emit()
            self.dispatch()
        finally:
            params.set_param(ADMIN_NETWORKS_PARAM, allowed)
            self.cr.commit()
        message = self.refresh(message)
        self.assertEqual(message.state, "dead")
        self.assertIn("outbound address policy", message.last_error)
        self.assertIn("127.0.0.1 is a loopback address", message.last_error)
        self.assertEqual(receiver.received, [], "nothing reached the receiver")

    def test_a_missing_key_file_with_encrypted_secrets_stops_signing_with_a_clear_error(self):
        self.subscribe(self.receiver())  # at least one encrypted secret exists
        with tempfile.TemporaryDirectory() as directory:
            lost = os.path.join(directory, "lost.key")
            with (
                patch.dict(config.options, {"mfg_integration_key_file": lost}),
                self.assertRaisesRegex(UserError, "lost.key is missing but encrypted secrets exist"),
            ):
                secret_box(self.env)
            self.assertFalse(os.path.exists(lost), "no new key was created")

    def test_an_endpoint_without_secret_keeps_its_messages_for_later_and_the_others_are_sent(self):
        broken_receiver, receiver = self.receiver(), self.receiver()
        broken = self.subscribe(broken_receiver, backoff_cap=600.0)
        self.subscribe(receiver)
        broken.sudo().secret_encrypted = False  # as after an administrator's mistake
        self.cr.commit()
        messages = self.emit()  # one message per endpoint
        self.assertEqual(self.dispatch(), 1)
        messages = self.refresh(messages)
        kept = messages.filtered(lambda message: message.endpoint_id == broken)
        self.assertEqual(kept.state, "retry")
        self.assertIn("has no signing secret", kept.last_error)
        self.assertGreater(kept.next_attempt_at, fields.Datetime.now() + timedelta(seconds=500))
        self.assertEqual((messages - kept).state, "done")
        self.assertEqual((len(broken_receiver.received), len(receiver.received)), (0, 1))

    def test_a_retry_due_within_seconds_is_sent_by_the_same_run_not_the_next_cron_poll(self):
        receiver = self.receiver().answer(Answer(503))
        self.subscribe(receiver, backoff_base=1.0, backoff_cap=1.0)
        message = self.emit()
        self.assertEqual(self.new_env()["mfg.integration.message"]._cron_dispatch(time_budget=30), 2)
        message = self.refresh(message)
        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempt_ids.sorted("id").mapped("http_status"), [503, 200])

    def test_a_circuit_opened_then_closed_again_within_a_batch_strands_no_message(self):
        # A batch's failure opens the circuit; before the batch gives back its waiting messages,
        # a success (an answer of the same batch, or another dispatcher's) closes it again.
        receiver = self.receiver()
        endpoint = self.subscribe(receiver)
        messages = self.emit(2)
        batch = self.new_env()["mfg.integration.message"]
        first, second = batch._claim_due(50)
        batch._next_transaction()
        circuit = batch.env["mfg.integration.endpoint"].browse(endpoint.id)
        circuit._record_circuit_outcomes("c" * endpoint.circuit_threshold)
        self.assertEqual(circuit._record_circuit_outcomes("s"), "closed")
        batch._next_transaction()

        self.assertFalse(batch._release(first), "a closed circuit keeps the message in the batch, to be sent")
        batch._next_transaction()
        self.assertEqual(self.refresh(messages).mapped("state"), ["in_progress"] * 2)

        circuit._record_circuit_outcomes("c" * endpoint.circuit_threshold)
        self.assertTrue(batch._release(second))
        batch._next_transaction()
        released = self.refresh(messages).filtered(lambda message: message.id == second.message_id)
        self.assertEqual(released.state, "retry")
        self.assertEqual(released.next_attempt_at, self.refresh(endpoint).circuit_open_until)
