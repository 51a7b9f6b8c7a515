# These tests commit on purpose: the outbox and the dispatcher are about commits and rollbacks.
# pylint: disable=invalid-commit
from odoo.exceptions import AccessError
from odoo.tests import new_test_user

from simulators.mfgsim.scripted_receiver import Answer

from .common import CommittedCase, IntegrationCase

ORDER = {"reference": "WH/MO/00012", "quantity": 5.0}


class TestSupportActions(CommittedCase):
    def run_list_action(self, xmlid, messages):
        """Run a list action on the selected messages, as the list view's Action menu does."""
        action = self.env.ref(xmlid)
        action.with_context(active_model=messages._name, active_ids=messages.ids).run()
        self.cr.commit()

    def test_replay_and_cancel_from_the_list(self):
        receiver = self.receiver().answer(Answer(400), Answer(400))
        event_type = self.make_event_type()
        endpoint = self.make_endpoint(self.make_system(), receiver.url, event_type)
        partner = self.make_partner()
        Message = self.env["mfg.integration.message"]
        first = Message.emit(event_type.code, partner, ORDER)
        second = Message.emit(event_type.code, partner, dict(ORDER, quantity=7.0))
        self.cr.commit()
        self.dispatch()
        self.assertEqual(set(self.refresh(first | second).mapped("state")), {"dead"})

        self.run_list_action("mfg_integration.mfg_integration_message_action_replay", first)
        self.run_list_action("mfg_integration.mfg_integration_message_action_cancel", second)
        self.dispatch()

        replay = Message.search([("replay_of_id", "=", first.id)])
        self.assertEqual(replay.state, "done")
        self.assertEqual(replay.event_id, first.event_id, "a replay is the same event, with the same id")
        self.assertEqual(replay.endpoint_id, endpoint)
        self.assertEqual(self.refresh(second).state, "cancelled")
        ids = receiver.event_ids()
        self.assertEqual(sorted(ids[:2]), sorted([first.event_id, second.event_id]), "sent in parallel, once each")
        self.assertEqual(ids[2:], [first.event_id], "the replay, and nothing for the cancelled one")
        self.assertIn("Replayed by", first.message_ids[0].body)

    def test_retry_now_sends_a_dead_letter_again(self):
        receiver = self.receiver().answer(Answer(422))
        event_type = self.make_event_type()
        self.make_endpoint(self.make_system(), receiver.url, event_type)
        message = self.env["mfg.integration.message"].emit(event_type.code, self.make_partner(), ORDER)
        self.cr.commit()
        self.dispatch()
        self.assertEqual(self.refresh(message).state, "dead")
        self.run_list_action("mfg_integration.mfg_integration_message_action_retry", message)
        self.dispatch()
        self.assertEqual(self.refresh(message).state, "done")
        self.assertEqual(len(receiver.received), 2)


class TestAccessAndSecrets(IntegrationCase):
    def setUp(self):
        super().setUp()
        self.event_type = self.make_event_type()
        self.system = self.make_system()
        self.endpoint = self.make_endpoint(self.system, "http://127.0.0.1:9/hook", self.event_type)
        self.message = self.env["mfg.integration.message"].emit(self.event_type.code, self.make_partner(), ORDER)

    def test_integration_user_reads_but_cannot_replay_cancel_or_configure(self):
        user = new_test_user(self.env, "mfg_reader", groups="mfg_integration.group_mfg_integration_user")
        message = self.message.with_user(user)
        self.assertEqual(message.state, "pending")
        for action in (message.action_replay, message.action_cancel, message.action_retry_now):
            with self.assertRaises(AccessError):
                action()
        with self.assertRaises(AccessError):
            self.endpoint.with_user(user).write({"url": "http://127.0.0.1:1/evil"})
        with self.assertRaises(AccessError):
            self.endpoint.with_user(user).action_rotate_secret()

    def test_user_of_another_company_sees_nothing(self):
        other_company = self.env["res.company"].create({"name": "Plant 2 Ltd"})
        user = new_test_user(
            self.env,
            "mfg_other_company",
            groups="mfg_integration.group_mfg_integration_manager",
            company_id=other_company.id,
            company_ids=[(6, 0, other_company.ids)],
        )
        Message = self.env["mfg.integration.message"].with_user(user)
        self.assertFalse(Message.search([("id", "=", self.message.id)]))
        self.assertFalse(self.env["mfg.integration.system"].with_user(user).search([("id", "=", self.system.id)]))
        with self.assertRaises(AccessError):
            self.message.with_user(user).read(["state"])

    def test_secret_is_encrypted_at_rest_and_shown_once_on_rotation(self):
        [old_secret] = self.endpoint._signing_secrets()
        self.assertTrue(old_secret.startswith("whsec_"))
        self.endpoint.flush_recordset()
        self.env.cr.execute("SELECT secret_encrypted FROM mfg_integration_endpoint WHERE id = %s", [self.endpoint.id])
        [stored] = self.env.cr.fetchone()
        self.assertNotIn(old_secret, stored)
        self.assertNotIn(old_secret.removeprefix("whsec_"), stored)

        notification = self.endpoint.action_rotate_secret()
        new_secret = notification["params"]["message"]
        self.assertTrue(new_secret.startswith("whsec_"))
        self.assertNotEqual(new_secret, old_secret)
        # During the rotation grace period both secrets sign, the new one first.
        self.assertEqual(self.endpoint._signing_secrets(), [new_secret, old_secret])
        form_values = self.endpoint.read()[0]
        self.assertNotIn(new_secret, str(form_values))

    def test_inbound_signing_secret_is_shown_once_and_stored_encrypted(self):
        self.system.require_inbound_signature = True
        secret = self.system.action_rotate_inbound_secret()["params"]["message"]
        self.assertEqual(self.system._inbound_secrets(), [secret])
        self.system.flush_recordset()
        self.env.cr.execute(
            "SELECT inbound_secret_encrypted FROM mfg_integration_system WHERE id = %s", [self.system.id]
        )
        self.assertNotIn(secret.removeprefix("whsec_"), self.env.cr.fetchone()[0])
        user = new_test_user(self.env, "mfg_reader2", groups="mfg_integration.group_mfg_integration_user")
        with self.assertRaises(AccessError):
            self.system.with_user(user).action_rotate_inbound_secret()
