# These tests commit on purpose: the outbox and the dispatcher are about commits and rollbacks.
# pylint: disable=invalid-commit
from .common import CommittedCase, IntegrationCase

ORDER = {"reference": "WH/MO/00012", "quantity": 5.0}


class TestOutbox(IntegrationCase):
    def setUp(self):
        super().setUp()
        self.event_type = self.make_event_type()
        self.partner = self.make_partner()

    def emit(self, record=None, data=ORDER):
        return self.env["mfg.integration.message"].emit(self.event_type.code, record or self.partner, data)

    def test_fan_out_writes_one_pending_message_per_subscribed_endpoint(self):
        mes = self.make_endpoint(self.make_system(), "http://127.0.0.1:9/mes", self.event_type)
        wms = self.make_endpoint(self.make_system(), "http://127.0.0.1:9/wms", self.event_type)
        unsubscribed = self.make_endpoint(self.make_system(), "http://127.0.0.1:9/x", self.make_event_type())
        messages = self.emit()
        self.assertEqual(messages.endpoint_id, mes | wms)
        self.assertEqual(set(messages.mapped("state")), {"pending"})
        self.assertEqual(len(set(messages.mapped("event_id"))), 1, "one event, one CloudEvents id")
        self.assertEqual(messages[0].res_model, "res.partner")
        self.assertEqual(messages[0].res_id, self.partner.id)
        self.assertEqual(messages[0].record_ref, self.partner)
        self.assertEqual(len(messages[0].payload_sha256), 64)
        self.assertFalse(self.messages_of(unsubscribed))

    def test_queued_messages_hold_what_an_orm_create_would_store(self):
        self.make_endpoint(self.make_system(), "http://127.0.0.1:9/mes", self.event_type)
        emitted = self.emit()
        Message = self.env["mfg.integration.message"]
        given = ("direction", "event_type_id", "event_id", "subject", "res_model", "res_id", "correlation_id",
                 "payload", "payload_sha256", "endpoint_id", "system_id", "company_id")  # fmt: skip
        created = (
            Message.sudo()
            .with_context(tracking_disable=True)
            .create(emitted._convert_to_write({name: emitted[name] for name in given}))
        )
        # Set by the clock: each is present, not equal to the microsecond.
        timed = ("create_date", "write_date", "next_attempt_at", "queued_at")
        stored = [name for name, field in Message._fields.items() if field.store and name not in ("id", *timed)]
        self.assertEqual(emitted.read(stored)[0] | {"id": 0}, created.read(stored)[0] | {"id": 0})
        self.assertTrue(all(emitted[name] for name in timed))
        self.assertLessEqual(emitted.next_attempt_at, emitted.queued_at, "due at once")
        for model, model_field in (("mail.message", "model"), ("mail.followers", "res_model")):
            self.assertEqual(
                self.env[model].search_count([("res_id", "in", emitted.ids), (model_field, "=", Message._name)]), 0
            )

    def test_inactive_endpoint_and_filtered_out_record_get_nothing(self):
        inactive = self.make_endpoint(self.make_system(), "http://127.0.0.1:9/a", self.event_type, active=False)
        filtered = self.make_endpoint(self.make_system(), "http://127.0.0.1:9/b", self.event_type)
        filtered.subscription_ids.filter_domain = "[('name', '=', 'Someone else')]"
        self.assertFalse(self.emit())
        filtered.subscription_ids.filter_domain = "[('name', '=', 'Test record')]"
        self.assertEqual(self.emit().endpoint_id, filtered)
        self.assertFalse(self.messages_of(inactive))

    def test_endpoint_of_another_company_gets_nothing(self):
        other_company = self.env["res.company"].create({"name": "Plant 2 Ltd"})
        other = self.make_endpoint(
            self.make_system(company_id=other_company.id), "http://127.0.0.1:9/c", self.event_type
        )
        self.assertFalse(self.emit())
        partner_b = self.env["res.partner"].create({"name": "B", "company_id": other_company.id})
        self.assertEqual(self.emit(partner_b).endpoint_id, other)

    def test_dispatch_is_triggered_once_per_transaction(self):
        self.make_endpoint(self.make_system(), "http://127.0.0.1:9/mes", self.event_type)
        cron = self.env.ref("mfg_integration.ir_cron_dispatch")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.emit()
        self.emit()
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers + 1)


class TestOutboxTransactions(CommittedCase):
    def test_rolled_back_transaction_leaves_no_message_and_sends_nothing(self):
        receiver = self.receiver()
        event_type = self.make_event_type()
        endpoint = self.make_endpoint(self.make_system(), receiver.url, event_type)
        self.cr.commit()

        business = self.new_env()
        partner = business["res.partner"].create({"name": "Rolled back"})
        business["mfg.integration.message"].emit(event_type.code, partner, ORDER)
        business.cr.rollback()

        self.dispatch()
        self.assertFalse(self.messages_of(endpoint))
        self.assertEqual(receiver.received, [])

    def test_committed_transaction_is_delivered(self):
        receiver = self.receiver()
        event_type = self.make_event_type()
        endpoint = self.make_endpoint(self.make_system(), receiver.url, event_type)
        self.cr.commit()

        business = self.new_env()
        partner = business["res.partner"].create({"name": "Committed"})
        business["mfg.integration.message"].emit(event_type.code, partner, ORDER)
        business.cr.commit()

        self.assertEqual(self.dispatch(), 1)
        message = self.refresh(self.messages_of(endpoint))
        self.assertEqual(message.state, "done")
        self.assertEqual([event["data"] for event in receiver.events()], [ORDER])
