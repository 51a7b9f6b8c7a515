"""The inbox as the attacker and as the crash: evidence protection, who applies an event,
handler wiring, signed replays, hostile JSON, leak-free errors, ordering and replays."""

import json
import time
from unittest.mock import patch

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user
from odoo.tests.common import JsonRpcException

from ..lib import signing
from .test_api import InboundApiCase

CODE_MAPPING = "odoo.addons.mfg_integration.models.mfg_integration_code_mapping.MfgIntegrationCodeMapping"


class TestInboundEvidence(InboundApiCase):
    """Issue 9 item 1: inbound messages are evidence, not editable rows."""

    def setUp(self):
        super().setUp()
        self.response = self.post(self.event(odoo_code="WID-2"))
        self.message = self.messages()
        self.manager = new_test_user(
            self.env, login="intmgr", password="intmgr-pass-1", groups="mfg_integration.group_mfg_integration_manager"
        )

    def test_manager_cannot_write_evidence_with_the_orm(self):
        other_user = new_test_user(self.env, login="someone", groups="base.group_user")
        attempts = {
            "payload": json.dumps(self.event(odoo_code="WID-1")),
            "sender_user_id": other_user.id,
            "system_id": self.make_system_with_key("MES9")[0].id,
            "company_id": self.env["res.company"].create({"name": "Other Co"}).id,
            "event_type_id": self.env.ref("mfg_integration.event_type_integration_ping").id,
            "direction": "outbound",
            "event_id": "forged",
            "idempotency_key": "forged",
            "state": "done",
        }
        for name, value in attempts.items():
            with self.subTest(field=name), self.assertRaises(AccessError):
                self.message.with_user(self.manager).write({name: value})
        self.env.invalidate_all()
        self.assertEqual(self.message.state, "dead")
        self.assertEqual(self.message.sender_user_id, self.user)
        self.assertEqual(json.loads(self.message.payload)["data"]["odoo_code"], "WID-2")

    def test_manager_cannot_create_or_copy_inbound_messages(self):
        vals = {
            "direction": "inbound",
            "event_type_id": self.event_type.id,
            "system_id": self.system.id,
            "payload": "{}",
            "idempotency_key": "forged-1",
        }
        with self.assertRaises(AccessError):
            self.env["mfg.integration.message"].with_user(self.manager).create(vals)
        with self.assertRaises(AccessError):
            self.message.with_user(self.manager).copy({"idempotency_key": "forged-2"})
        self.assertEqual(len(self.messages()), 1)

    def test_rpc_write_of_the_sender_is_refused(self):
        self.authenticate("intmgr", "intmgr-pass-1")
        with self.assertRaises(JsonRpcException) as caught:
            self.make_jsonrpc_request(
                "/web/dataset/call_kw",
                {
                    "model": "mfg.integration.message",
                    "method": "write",
                    "args": [[self.message.id], {"sender_user_id": 2, "state": "pending"}],
                    "kwargs": {},
                },
            )
        self.assertIn("AccessError", str(caught.exception))
        self.env.invalidate_all()
        self.assertEqual(self.message.sender_user_id, self.user)
        self.assertEqual(self.message.state, "dead")

    def test_support_actions_still_change_the_state(self):
        self.message.with_user(self.manager).action_inbound_ignore()
        self.assertEqual(self.message.state, "cancelled")


class TestReprocessAsTechnicalUser(InboundApiCase):
    """Issue 9 item 2: reprocess applies as the system's technical user, in the message's company."""

    def failed_message(self):
        self.assertEqual(self.post(self.event(odoo_code="WID-2")).status_code, 422)
        return self.messages()

    def test_reprocess_with_two_companies_selected_runs_as_the_technical_user(self):
        message = self.failed_message()
        other = self.env["res.company"].create({"name": "Second Plant"})
        manager = new_test_user(
            self.env,
            login="mgr2co",
            groups="base.group_system,mfg_integration.group_mfg_integration_manager",
            company_ids=[(6, 0, [self.env.company.id, other.id])],
        )
        self.env["product.product"].create({"name": "Widget 2", "default_code": "WID-2"})
        clicked = message.with_user(manager).with_context(allowed_company_ids=[other.id, self.env.company.id])
        self.assertEqual(clicked.action_inbound_reprocess(), {message.id: "processed"})
        mapping = self.mappings()
        self.assertEqual(mapping.create_uid, self.user, "applied as the technical user, not the clicking admin")
        self.assertEqual(mapping.system_id.company_id, message.company_id)
        chatter = message.message_ids[0]
        self.assertIn(manager.name, chatter.body)
        self.assertIn(self.user.name, chatter.body)
        self.assertIn("processed", chatter.body)
        self.assertEqual(chatter.author_id, manager.partner_id)

    def test_unlinked_or_archived_technical_user_is_never_used(self):
        message = self.failed_message()
        self.env["product.product"].create({"name": "Widget 2", "default_code": "WID-2"})
        self.user.mfg_system_id = False
        self.assertEqual(message.action_inbound_reprocess(), {message.id: "unavailable"})
        self.assertFalse(self.mappings(), "not applied as the former sender nor as admin")
        self.assertIn("no active technical user", message.last_error)
        self.assertIn("failed again (Unavailable (Configuration))", message.message_ids[0].body)
        # Another active technical user of the same system is used instead.
        second = new_test_user(
            self.env, login="tech-second", groups="base.group_user,mfg_integration.group_mfg_integration_manager"
        )
        second.mfg_system_id = self.system
        self.assertEqual(message.action_inbound_reprocess(), {message.id: "processed"})
        self.assertEqual(self.mappings().create_uid, second)


class TestHandlerRule(InboundApiCase):
    """Issue 9 item 5: only _mfg_handle_<what> methods can be handlers, set by Settings admins."""

    def new_type(self, **vals):
        return self.env["mfg.integration.event.type"].create(
            dict(
                code="mfg.attack.handler.v1",
                name="Attack",
                direction="inbound",
                json_schema='{"type": "object"}',
                **vals,
            )
        )

    def test_check_credentials_cannot_be_wired(self):
        for model, method in (
            ("res.users", "_check_credentials"),
            ("res.users", "unlink"),
            ("mfg.integration.code.mapping", "_mfg_handle_nothing_like_this"),
            ("no.such.model", "_mfg_handle_x"),
        ):
            with self.subTest(method=method), self.assertRaises(ValidationError), self.env.cr.savepoint():
                self.new_type(handler_model=model, handler_method=method)
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.event_type.handler_method = "_check_credentials"

    def test_existing_handlers_follow_the_rule(self):
        inbound = self.env["mfg.integration.event.type"].search([("direction", "=", "inbound")])
        for event_type in inbound.filtered("handler_method"):
            with self.subTest(type=event_type.code):
                self.assertTrue(event_type.handler_method.startswith("_mfg_handle_"))
                self.assertTrue(event_type._handler_is_valid())

    def test_only_settings_admins_set_handlers(self):
        manager = new_test_user(self.env, login="intmgr5", groups="mfg_integration.group_mfg_integration_manager")
        with self.assertRaises(AccessError):
            self.event_type.with_user(manager).write({"handler_model": "res.users"})
        admin = new_test_user(
            self.env, login="settings5", groups="base.group_system,mfg_integration.group_mfg_integration_manager"
        )
        self.event_type.with_user(admin).handler_method = "_mfg_handle_code_mapping_reported"


class TestSignedReplays(InboundApiCase):
    """Issue 9 item 8: a signed request cannot be replayed with a fresh Idempotency-Key."""

    def test_captured_signed_request_with_fresh_key_is_not_applied_again(self):
        secret = signing.generate_secret()
        self.system.require_inbound_signature = True
        self.system._set_inbound_secret(secret)
        body = json.dumps(self.event()).encode()
        signed = signing.webhook_headers([secret], "wh-1", int(time.time()), body)
        self.assertEqual(self.post(None, raw=body, headers=signed).status_code, 200)
        fresh_key = self.post(None, raw=body, headers=dict(signed, **{"Idempotency-Key": "fresh-1"}))
        self.assertProblem(fresh_key, 422, "idempotency-key-not-signed")
        replay = self.post(None, raw=body, headers=signed)
        self.assertEqual(replay.status_code, 200)
        self.assertEqual(replay.headers["Idempotent-Replayed"], "true")
        same_id_key = self.post(None, raw=body, headers=dict(signed, **{"Idempotency-Key": "wh-1"}))
        self.assertEqual(same_id_key.headers["Idempotent-Replayed"], "true")
        message = self.messages()
        self.assertEqual(len(message), 1)
        self.assertEqual(message.attempt_count, 1)
        self.assertEqual(len(self.mappings()), 1)


class TestHostileJson(InboundApiCase):
    """Issue 9 item 9: hostile JSON is a 4xx problem, never a 5xx."""

    def raw_event(self, data_text, event_id='"evt-h"'):
        """Event text with ``data_text`` as its data, as is (json.dumps cannot write most of these)."""
        return (
            f'{{"specversion": "1.0", "id": {event_id}, "source": "urn:mes:x", "type": "{self.event_type.code}",'
            f' "time": "2024-05-01T10:00:00Z", "data": {data_text}}}'
        )

    def test_hostile_values_are_refused(self):
        nested = "[" * 40 + "]" * 40
        very_nested = "[" * 100000 + "]" * 100000
        cases = {
            "surrogate in data": (self.raw_event('{"kind": "product", "external_code": "\\ud800"}'), 422),
            "surrogate in id": (self.raw_event('{"kind": "product"}', event_id='"\\udfff"'), 422),
            "surrogate in a key": (self.raw_event('{"\\ud800": 1}'), 422),
            "1e999": (self.raw_event('{"kind": 1e999}'), 400),
            "NaN": (self.raw_event('{"kind": NaN}'), 400),
            "-Infinity": (self.raw_event('{"kind": -Infinity}'), 400),
            "1e308": (self.raw_event('{"kind": "product", "external_code": 1e308, "odoo_code": "W"}'), 422),
            "huge integer": (self.raw_event(f'{{"kind": {"9" * 5000}}}'), 400),
            "nesting 40": (self.raw_event(f'{{"kind": {nested}}}'), 422),
            "nesting 100000": (self.raw_event(f'{{"kind": {very_nested}}}'), 400),
        }
        for name, (raw, status) in cases.items():
            with self.subTest(case=name):
                self.assertProblem(self.post(None, raw=raw.encode()), status)
        self.assertFalse(self.mappings())

    def test_one_bad_batch_item_is_its_own_entry(self):
        good = json.dumps(self.event())
        surrogate = self.raw_event('{"kind": "product", "external_code": "\\ud800x", "odoo_code": "WID-1"}')
        deep = self.raw_event(f'{{"kind": {"[" * 50 + "]" * 50}}}', event_id='"deep"')
        raw = f"[{surrogate}, {good}, {deep}]"
        response = self.post(None, path="/events/batch", raw=raw.encode(), content_type="application/json")
        self.assertEqual(response.status_code, 207, response.text)
        results = response.json()["results"]
        self.assertEqual([r["status"] for r in results], [422, 200, 422])
        self.assertEqual(results[0]["body"]["errors"][0]["path"], "/data/external_code")
        self.assertEqual(len(self.mappings()), 1)


class TestLeakFreeErrors(InboundApiCase):
    """Issue 9 item 11 and issue 10 item 9: errors name no user; non-business failures apply again."""

    def test_crash_is_an_incident_logged_beside_the_traceback(self):
        event = self.event()
        with (
            patch(f"{CODE_MAPPING}._mfg_handle_code_mapping_reported", side_effect=RuntimeError("db password x")),
            self.assertLogs("odoo.addons.mfg_integration.models.mfg_integration_message_inbound", "ERROR") as logs,
        ):
            response = self.post(event)
        body = self.assertProblem(response, 500, "internal-error")
        self.assertNotIn("db password", response.text)
        incident = body["incident"]
        self.assertIn(incident, body["detail"])
        self.assertIn(incident, logs.output[0])
        self.assertIn("RuntimeError: db password x", logs.output[0], "traceback beside the incident id")
        message = self.messages()
        self.assertIn(incident, message.last_error)
        # A crash is not the sender's fault: re-posting the event applies it again.
        again = self.post(event)
        self.assertEqual(again.status_code, 200, again.text)
        self.assertNotIn("Idempotent-Replayed", again.headers)
        self.assertEqual(self.messages().state, "done")
        self.assertEqual(len(self.mappings()), 1)

    def test_missing_right_names_nobody_and_applies_once_granted(self):
        system, user, key = self.make_system_with_key("MES-LOW")
        user.groups_id = [(6, 0, [self.env.ref("base.group_user").id])]  # cannot create code mappings
        event = self.event()
        response = self.post(event, key=key)
        body = self.assertProblem(response, 403, "access-denied")
        for secret in (user.login, f"id={user.id}", user.name):
            self.assertNotIn(secret, response.text)
        message = self.messages(system)
        self.assertEqual(message.state, "dead")
        self.assertNotEqual(message.last_error, body["detail"], "support keeps Odoo's own message")
        self.assertEqual(body["message_id"], message.id)
        user.groups_id = [(4, self.env.ref("mfg_integration.group_mfg_integration_manager").id)]
        again = self.post(event, key=key)
        self.assertEqual(again.status_code, 200, again.text)
        self.assertEqual(self.messages(system).state, "done")
        self.assertEqual(self.messages(system).attempt_count, 2)

    def test_wrong_key_answer_names_no_login(self):
        response = self.post(self.event(), key="not-a-key")
        self.assertProblem(response, 401)
        self.assertNotIn(self.user.login, response.text)


class TestReplayAnswersCurrentOutcome(InboundApiCase):
    """Issue 10 item 9: a replay answers the message's current outcome."""

    def test_replay_after_reprocess_is_200_with_the_result(self):
        event = self.event(odoo_code="WID-2")
        self.assertProblem(self.post(event), 422)
        self.assertProblem(self.post(event), 422)  # a business failure stays one: not applied again
        message = self.messages()
        self.assertEqual(message.attempt_count, 1)
        self.env["product.product"].create({"name": "Widget 2", "default_code": "WID-2"})
        message.action_inbound_reprocess()
        replay = self.post(event)
        self.assertEqual(replay.status_code, 200, replay.text)
        self.assertEqual(replay.headers["Idempotent-Replayed"], "true")
        self.assertEqual(replay.json()["status"], "processed")
        self.assertEqual(replay.json()["result"]["records"][0]["id"], self.mappings().id)


class TestOrderedInbox(InboundApiCase):
    """Issue 10 item 8: messages about the same subject apply in order."""

    def setUp(self):
        super().setUp()
        # The code mapping type gets a subject (the Odoo product code) for these tests.
        self.event_type.write({"subject_model": "product.product", "subject_key": "odoo_code"})

    def test_later_message_waits_for_the_failed_one_then_applies_after_reprocess(self):
        first = self.post(self.event(external_code="A-1", odoo_code="WID-2"))
        self.assertProblem(first, 422)
        second_event = self.event(external_code="A-2", odoo_code="WID-2")
        second = self.post(second_event)
        body = self.assertProblem(second, 424, "waits-for-earlier-message")
        failed, waiting = self.messages()
        self.assertEqual(body["waits_for"], failed.id)
        self.assertIn(f"waits for message {failed.id}", body["detail"])
        self.assertEqual(waiting.state, "waiting")
        self.assertEqual(waiting.waits_for_id, failed)
        # Another subject is not held up.
        self.assertEqual(self.post(self.event(external_code="B-1", odoo_code="WID-1")).status_code, 200)
        self.assertProblem(self.post(second_event), 424)  # a re-post answers the current outcome
        self.assertEqual(self.mappings().mapped("external_code"), ["B-1"])

        self.env["product.product"].create({"name": "Widget 2", "default_code": "WID-2"})
        failed.action_inbound_reprocess()
        self.env.invalidate_all()
        self.assertEqual((failed.state, waiting.state), ("done", "done"))
        self.assertLessEqual(failed.done_at, waiting.done_at)
        self.assertEqual(sorted(self.mappings().mapped("external_code")), ["A-1", "A-2", "B-1"])
        replay = self.post(second_event)
        self.assertEqual(replay.status_code, 200, replay.text)

    def test_ignoring_the_failed_message_releases_the_waiting_ones_in_order(self):
        self.assertProblem(self.post(self.event(external_code="A-1", odoo_code="WID-2")), 422)
        self.env["product.product"].create({"name": "Widget 2", "default_code": "WID-2"})
        self.assertProblem(self.post(self.event(external_code="A-2", odoo_code="WID-2")), 424)
        self.assertProblem(self.post(self.event(external_code="A-3", odoo_code="WID-2")), 424)
        failed, second, third = self.messages()
        failed.action_inbound_ignore()
        self.env.invalidate_all()
        self.assertEqual([m.state for m in (failed, second, third)], ["cancelled", "done", "done"])
        self.assertLessEqual(second.done_at, third.done_at)
        self.assertEqual(sorted(self.mappings().mapped("external_code")), ["A-2", "A-3"])

    def test_batch_parks_the_later_events_of_the_failed_subject(self):
        events = [
            self.event(external_code="A-1", odoo_code="WID-2"),
            self.event(external_code="A-2", odoo_code="WID-2"),
            self.event(external_code="B-1", odoo_code="WID-1"),
        ]
        response = self.post(events, path="/events/batch", content_type="application/cloudevents-batch+json")
        self.assertEqual(response.status_code, 207, response.text)
        self.assertEqual([r["status"] for r in response.json()["results"]], [422, 424, 200])
        self.assertEqual(self.mappings().mapped("external_code"), ["B-1"])
