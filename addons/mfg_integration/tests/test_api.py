"""The inbound REST API through Odoo's real HTTP stack (HttpCase)."""

import json
import time
import uuid
from datetime import timedelta
from unittest.mock import patch

import jsonschema
from openapi_spec_validator import validate

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged

from simulators.mfgsim.client import cloud_event

from ..lib import payload, signing
from ..models import mfg_integration_message_inbound as inbound_module
from .common import EVENT_TIME, make_api_key

API = "/api/mfg/v1"
TYPE = "mfg.integration.code_mapping.reported.v1"
PROBLEM = "application/problem+json"


@tagged("post_install", "-at_install")
class InboundApiCase(HttpCase):
    def setUp(self):
        super().setUp()
        self.event_type = self.env.ref("mfg_integration.event_type_code_mapping_reported")
        self.system, self.user, self.key = self.make_system_with_key("MES1")
        self.product = self.env["product.product"].create({"name": "Widget", "default_code": "WID-1"})

    def make_system_with_key(self, code, **vals):
        system = self.env["mfg.integration.system"].create(
            dict(name=code, code=code, inbound_event_type_ids=[(6, 0, self.event_type.ids)], **vals)
        )
        user = new_test_user(
            self.env,
            login=f"tech-{code.lower()}-{uuid.uuid4().hex[:6]}",
            groups="base.group_user,mfg_integration.group_mfg_integration_manager",
        )
        user.mfg_system_id = system
        return system, user, make_api_key(self.env, user, "mes")

    def event(self, event_id=None, **data):
        data = dict({"kind": "product", "external_code": "MES-WID", "odoo_code": "WID-1"}, **data)
        return cloud_event(TYPE, data, "urn:mes:line-1", EVENT_TIME, event_id)

    def post(self, body, path="/events", key=None, headers=None, raw=None, content_type="application/cloudevents+json"):
        all_headers = {"Authorization": f"Bearer {key or self.key}", "Content-Type": content_type}
        all_headers.update(headers or {})
        data = raw if raw is not None else json.dumps(body)
        return self.url_open(API + path, data=data, headers=all_headers)

    def get(self, path, key=None):
        headers = {"Authorization": f"Bearer {key or self.key}"} if key is not False else {}
        return self.url_open(API + path, headers=headers)

    def assertProblem(self, response, status, slug=None):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.headers["Content-Type"].split(";")[0], PROBLEM)
        body = response.json()
        self.assertEqual(body["status"], status)
        self.assertTrue(body["title"])
        if slug:
            self.assertEqual(body["type"], f"urn:mfg-integration:problem:{slug}")
        return body

    def messages(self, system=None):
        self.env.invalidate_all()
        return self.env["mfg.integration.message"].search(
            [("direction", "=", "inbound"), ("system_id", "=", (system or self.system).id)], order="id"
        )

    def mappings(self):
        self.env.invalidate_all()
        return self.env["mfg.integration.code.mapping"].search([("system_id", "=", self.system.id)])


class TestInboundEvents(InboundApiCase):
    def test_event_is_applied_synchronously(self):
        event = dict(self.event(), correlationid="corr-42")
        response = self.post(event)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.headers["Content-Type"], "application/json")
        body = response.json()
        message = self.messages()
        self.assertEqual(body["message_id"], message.id)
        self.assertEqual(body["status"], "processed")
        mapping = self.mappings()
        self.assertEqual(mapping.target_ref, self.product)
        self.assertEqual(mapping.external_code, "MES-WID")
        self.assertEqual(
            body["result"],
            {"records": [{"model": "mfg.integration.code.mapping", "id": mapping.id, "name": "MES-WID"}]},
        )
        self.assertEqual(message.state, "done")
        self.assertEqual(message.event_id, event["id"])
        self.assertEqual(message.idempotency_key, event["id"])
        self.assertEqual(message.sender_user_id, self.user)
        self.assertEqual(message.correlation_id, "corr-42")
        self.assertEqual(message.causation_id, False)
        self.assertEqual(message.result_kind, "processed")
        self.assertEqual(message.attempt_count, 1)
        self.assertEqual(len(message.attempt_ids), 1)
        self.assertEqual(json.loads(message.payload), event)

    def test_same_key_same_payload_replays_the_original_response(self):
        event = self.event()
        first = self.post(event)
        self.assertEqual(first.status_code, 200)
        self.assertNotIn("Idempotent-Replayed", first.headers)
        again = self.post(event)
        self.assertEqual(again.status_code, 200)
        self.assertEqual(again.headers["Idempotent-Replayed"], "true")
        self.assertEqual(again.json(), first.json())
        message = self.messages()
        self.assertEqual(len(message), 1)
        self.assertEqual(message.attempt_count, 1, "applied once only")
        self.assertEqual(len(self.mappings()), 1)

    def test_same_key_different_payload_is_422(self):
        event = self.event()
        self.assertEqual(self.post(event).status_code, 200)
        changed = dict(event, data=dict(event["data"], external_code="OTHER"))
        body = self.assertProblem(self.post(changed), 422, "idempotency-key-reused")
        self.assertEqual(body["message_id"], self.messages().id)
        self.assertEqual(self.mappings().external_code, "MES-WID", "the changed payload was not applied")

    def test_idempotency_key_header_takes_precedence(self):
        first = self.post(self.event(), headers={"Idempotency-Key": "batch-7"})
        self.assertEqual(first.status_code, 200)
        other_id = self.post(self.event(external_code="X2"), headers={"Idempotency-Key": "batch-7"})
        self.assertProblem(other_id, 422, "idempotency-key-reused")
        self.assertEqual(self.messages().idempotency_key, "batch-7")

    def stored_in_progress(self, event, claimed_for):
        """The message of ``event`` as a request leaves it while applying it: in progress, its lease
        ending in ``claimed_for`` seconds (negative: the request died)."""
        text = payload.canonical_json(event)
        return self.env["mfg.integration.message"].create(
            {
                "direction": "inbound",
                "event_type_id": self.event_type.id,
                "event_id": event["id"],
                "system_id": self.system.id,
                "sender_user_id": self.user.id,
                "payload": text,
                "payload_sha256": payload.sha256_hex(text),
                "idempotency_key": event["id"],
                "state": "in_progress",
                "claimed_until": fields.Datetime.now() + timedelta(seconds=claimed_for),
            }
        )

    def test_same_key_while_applied_elsewhere_is_409(self):
        # A request that stored the message and is still applying it (its lease runs);
        # the truly concurrent case runs against a real server in tests/blackbox.
        event = self.event()
        self.stored_in_progress(event, claimed_for=60)
        response = self.post(event)
        self.assertProblem(response, 409, "request-in-progress")
        self.assertEqual(response.headers["Retry-After"], "1")
        self.assertFalse(self.mappings())

    def test_stale_in_progress_message_is_taken_over(self):
        """The request that stored it died (lease over): a retry applies it."""
        event = self.event()
        message = self.stored_in_progress(event, claimed_for=-1)
        response = self.post(event)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["message_id"], message.id)
        self.assertEqual(self.messages().state, "done")

    def test_prefer_respond_async_is_202_then_applied_by_the_cron(self):
        event = self.event()
        response = self.post(event, headers={"Prefer": "respond-async"})
        self.assertEqual(response.status_code, 202, response.text)
        message = self.messages()
        self.assertEqual(response.json(), {"message_id": message.id, "status": "pending"})
        self.assertEqual(message.state, "pending")
        self.assertFalse(self.mappings(), "not applied yet")
        cron = self.env.ref("mfg_integration.ir_cron_process_inbound")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
        self.assertEqual(self.get(f"/messages/{message.id}").json()["status"], "pending")

        with self.env.registry.cursor() as cr:  # the cron commits: give it a cursor of its own
            self.env(cr=cr)["mfg.integration.message"]._cron_process_inbound(time_budget=30)
        self.assertEqual(self.messages().state, "done")
        self.assertEqual(self.mappings().target_ref, self.product)
        status = self.get(f"/messages/{message.id}").json()
        self.assertEqual(status["status"], "processed")
        self.assertEqual(status["result"]["records"][0]["model"], "mfg.integration.code.mapping")

        replay = self.post(event, headers={"Prefer": "respond-async"})
        self.assertEqual(replay.status_code, 200, "the current outcome: processed")
        self.assertEqual(replay.json()["status"], "processed")
        self.assertEqual(replay.headers["Idempotent-Replayed"], "true")
        self.assertEqual(self.messages().attempt_count, 1)

    def test_async_system_answers_202(self):
        self.system.async_processing = True
        response = self.post(self.event())
        self.assertEqual(response.status_code, 202)
        self.assertEqual(response.json()["status"], "pending")

    def test_business_failure_is_422_and_kept_for_support(self):
        response = self.post(self.event(odoo_code="NOPE-9"))
        body = self.assertProblem(response, 422, "business-error")
        self.assertIn("NOPE-9", body["detail"])
        self.assertEqual(body["errors"][0]["path"], "/data/odoo_code")
        message = self.messages()
        self.assertEqual(body["message_id"], message.id)
        self.assertEqual(message.state, "dead")
        self.assertIn("NOPE-9", message.last_error)
        self.assertEqual(message.error_path, "/data/odoo_code")
        self.assertFalse(self.mappings(), "nothing half-applied")
        replay = self.post(json.loads(message.payload))
        self.assertProblem(replay, 422)
        self.assertEqual(replay.headers["Idempotent-Replayed"], "true")
        status = self.get(f"/messages/{message.id}").json()
        self.assertEqual(status["status"], "failed")
        self.assertIn("NOPE-9", status["error"])


class TestInboundErrors(InboundApiCase):
    def test_malformed_json_is_400(self):
        self.assertProblem(self.post(None, raw='{"specversion": "1.0", '), 400, "malformed-json")
        self.assertProblem(self.post(None, raw='{"a": NaN}'), 400, "malformed-json")
        self.assertFalse(self.messages())

    def test_nul_characters_are_refused(self):
        body = self.assertProblem(self.post(self.event(external_code="A\u0000B")), 422, "invalid-event")
        self.assertEqual(body["errors"][0]["path"], "/data/external_code")
        self.assertFalse(self.messages())

    def test_unsupported_content_type_is_415(self):
        self.assertProblem(self.post(self.event(), content_type="text/plain"), 415)

    def test_unknown_event_type_is_422(self):
        event = dict(self.event(), type="mfg.nothing.happened.v1")
        body = self.assertProblem(self.post(event), 422, "unknown-event-type")
        self.assertEqual(body["errors"][0]["path"], "/type")

    def test_invalid_envelope_is_422(self):
        event = self.event()
        del event["time"]
        event["specversion"] = "0.3"
        body = self.assertProblem(self.post(event), 422, "invalid-event")
        self.assertEqual({e["path"] for e in body["errors"]}, {"/time", "/specversion"})
        self.assertProblem(self.post([1, 2]), 422, "invalid-event")

    def test_schema_violation_lists_every_failing_path(self):
        event = self.event()
        event["data"] = {"kind": "product", "odoo_code": 7, "extra": True}
        body = self.assertProblem(self.post(event), 422, "schema-violation")
        paths = {error["path"] for error in body["errors"]}
        self.assertIn("/data/odoo_code", paths)
        self.assertTrue({"/data", "/data/external_code"} & paths, paths)  # missing member
        self.assertGreaterEqual(len(body["errors"]), 3)
        self.assertFalse(self.messages(), "an invalid event is not stored")

    def test_body_over_the_limit_is_413(self):
        self.system.max_body_bytes = 300
        event = self.event(note="x" * 200)
        self.assertProblem(self.post(event), 413, "body-too-large")

    def test_rate_limit_is_429_with_retry_after(self):
        self.system.rate_limit_per_minute = 2
        self.assertEqual(self.post(self.event()).status_code, 200)
        self.assertEqual(self.post(self.event(external_code="B")).status_code, 200)
        response = self.post(self.event(external_code="C"))
        self.assertProblem(response, 429, "rate-limited")
        self.assertTrue(1 <= int(response.headers["Retry-After"]) <= 60)

    def test_missing_or_wrong_key_is_401_problem(self):
        response = self.url_open(
            API + "/events", data=json.dumps(self.event()), headers={"Content-Type": "application/json"}
        )
        self.assertProblem(response, 401, "unauthorized")
        self.assertIn("Bearer", response.headers["WWW-Authenticate"])
        self.assertProblem(self.post(self.event(), key="not-a-key"), 401)
        self.assertProblem(self.get("/messages/1", key="not-a-key"), 401)
        self.assertFalse(self.messages())

    def test_revoked_key_is_401(self):
        self.env["res.users.apikeys"].search([("user_id", "=", self.user.id)]).with_user(self.user)._remove()
        self.assertProblem(self.post(self.event()), 401)

    def test_user_without_system_is_403(self):
        self.user.mfg_system_id = False  # unlinked after its key was made
        self.assertProblem(self.post(self.event()), 403, "no-system")

    def test_event_type_not_allowed_is_403(self):
        self.system.inbound_event_type_ids = [(5, 0, 0)]
        self.assertProblem(self.post(self.event()), 403, "event-type-not-allowed")

    def test_wrong_method_and_unknown_path_are_problems(self):
        response = self.url_open(API + "/events", headers={"Authorization": f"Bearer {self.key}"})
        self.assertProblem(response, 405)
        self.assertEqual(response.headers["Allow"], "POST")
        self.assertProblem(self.get("/nothing-here"), 404)

    def test_signature_required(self):
        secret = signing.generate_secret()
        self.system.require_inbound_signature = True
        self.system._set_inbound_secret(secret)
        event = self.event()
        body = json.dumps(event).encode()
        self.assertProblem(self.post(None, raw=body), 401, "invalid-signature")
        stale = signing.webhook_headers([secret], "msg-1", int(time.time()) - 301, body)
        self.assertProblem(self.post(None, raw=body, headers=stale), 401, "invalid-signature")
        forged = signing.webhook_headers([signing.generate_secret()], "msg-1", int(time.time()), body)
        self.assertProblem(self.post(None, raw=body, headers=forged), 401, "invalid-signature")
        good = signing.webhook_headers([secret], "msg-1", int(time.time()), body)
        response = self.post(None, raw=body, headers=good)
        self.assertEqual(response.status_code, 200, response.text)


class TestInboundBatchAndQueries(InboundApiCase):
    def test_batch_applies_each_event_in_order(self):
        ok = self.event()
        bad_schema = self.event()
        bad_schema["data"] = {"kind": "product"}
        unknown = self.event(external_code="E3", odoo_code="NOPE")
        later = self.event(external_code="E4")
        response = self.post(
            [ok, bad_schema, unknown, later, "junk"],
            path="/events/batch",
            content_type="application/cloudevents-batch+json",
        )
        self.assertEqual(response.status_code, 207, response.text)
        results = response.json()["results"]
        self.assertEqual([r["index"] for r in results], [0, 1, 2, 3, 4])
        self.assertEqual([r["status"] for r in results], [200, 422, 422, 200, 422])
        self.assertEqual(results[0]["id"], ok["id"])
        self.assertEqual(results[1]["body"]["type"], "urn:mfg-integration:problem:schema-violation")
        self.assertEqual(results[2]["body"]["type"], "urn:mfg-integration:problem:business-error")
        self.assertEqual(set(self.mappings().mapped("external_code")), {"MES-WID", "E4"})
        self.assertEqual(self.messages().mapped("state"), ["done", "dead", "done"])

        again = self.post([ok, later], path="/events/batch", content_type="application/cloudevents-batch+json").json()[
            "results"
        ]
        self.assertEqual([r["replayed"] for r in again], [True, True])
        self.assertEqual(again[0]["body"], results[0]["body"])

    def test_batch_repeating_an_event_applies_it_once(self):
        """A batch's events are stored together: an id repeated inside one batch is one message,
        applied once; the repeat answers its outcome, or 422 with another payload."""
        event = self.event(external_code="E5")
        other_payload = dict(self.event(external_code="E6"), id=event["id"])
        response = self.post(
            [event, event, other_payload], path="/events/batch", content_type="application/cloudevents-batch+json"
        )
        self.assertEqual(response.status_code, 207, response.text)
        results = response.json()["results"]
        self.assertEqual([r["status"] for r in results], [200, 200, 422])
        self.assertEqual([r["replayed"] for r in results], [False, True, False])
        self.assertEqual(results[2]["body"]["type"], "urn:mfg-integration:problem:idempotency-key-reused")
        self.assertEqual({r["body"]["message_id"] for r in results}, set(self.messages().ids))
        self.assertEqual(self.messages().mapped("state"), ["done"])
        self.assertEqual(set(self.mappings().mapped("external_code")), {"E5"})

    def test_a_batch_past_its_time_budget_leaves_the_rest_to_the_inbound_cron(self):
        first, second = self.event(external_code="E7"), self.event(external_code="E8")
        with patch.object(inbound_module, "BATCH_SYNC_BUDGET", -1):  # spent before the first event
            response = self.post(
                [first, second], path="/events/batch", content_type="application/cloudevents-batch+json"
            )
        self.assertEqual(response.status_code, 207, response.text)
        results = response.json()["results"]
        self.assertEqual([r["status"] for r in results], [202, 202])
        self.assertEqual(self.messages().mapped("state"), ["pending", "pending"])
        self.assertFalse(self.mappings(), "not applied by the request")
        cron = self.env.ref("mfg_integration.ir_cron_process_inbound")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
        with self.env.registry.cursor() as cr:  # the cron commits: give it a cursor of its own
            self.env(cr=cr)["mfg.integration.message"]._cron_process_inbound(time_budget=30)
        self.assertEqual(self.messages().mapped("state"), ["done", "done"])
        self.assertEqual(set(self.mappings().mapped("external_code")), {"E7", "E8"})
        self.assertEqual(self.get(f"/messages/{results[1]['body']['message_id']}").json()["status"], "processed")

    def test_batch_limits(self):
        self.assertProblem(
            self.post(self.event(), path="/events/batch", content_type="application/cloudevents-batch+json"),
            422,
            "invalid-batch",
        )
        events = [self.event() for _ in range(501)]
        self.assertProblem(
            self.post(events, path="/events/batch", content_type="application/cloudevents-batch+json"),
            422,
            "invalid-batch",
        )

    def test_get_message_of_own_system_only(self):
        message_id = self.post(self.event()).json()["message_id"]
        response = self.get(f"/messages/{message_id}")
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["message_id"], message_id)
        self.assertEqual(body["status"], "processed")
        self.assertEqual(body["type"], TYPE)
        self.assertIsNone(body["error"])
        _other_system, _user, other_key = self.make_system_with_key("WMS1")
        self.assertProblem(self.get(f"/messages/{message_id}", key=other_key), 404, "not-found")
        self.assertProblem(self.get("/messages/999999999"), 404)

    def test_openapi_document(self):
        response = self.url_open(API + "/openapi.json")
        self.assertEqual(response.status_code, 200)
        document = response.json()
        validate(document)
        self.assertEqual(document["openapi"], "3.1.0")
        schema = document["components"]["schemas"]["data." + TYPE]
        self.assertEqual(set(schema["required"]), {"kind", "external_code", "odoo_code"})
        self.assertIn(f"{API}/events", document["paths"])

    def test_openapi_publishes_every_outbound_type_as_a_webhook_with_its_schema_url(self):
        document = self.url_open(API + "/openapi.json").json()
        validate(document)
        outbound = self.env["mfg.integration.event.type"].search([("direction", "=", "outbound")])
        self.assertEqual(set(document["webhooks"]), set(outbound.mapped("code")))
        base_url = self.env["ir.config_parameter"].get_param("web.base.url")
        ping = document["components"]["schemas"]["event.mfg.integration.ping.v1"]["properties"]["dataschema"]
        self.assertEqual(ping["const"], f"{base_url}{API}/schemas/mfg.integration.ping.v1.json")

    def test_each_type_schema_is_served_without_key_and_cacheable(self):
        Validator = jsonschema.Draft202012Validator
        for event_type in self.env["mfg.integration.event.type"].search([]):
            url = event_type.dataschema_uri()
            self.assertTrue(url.startswith(self.env["ir.config_parameter"].get_param("web.base.url") + API))
            response = self.url_open(url[url.index(API) :])
            self.assertEqual(response.status_code, 200, event_type.code)
            self.assertEqual(response.headers["Content-Type"], "application/schema+json")
            self.assertIn("max-age", response.headers["Cache-Control"])
            schema = response.json()
            Validator.check_schema(schema)
            self.assertEqual(schema["$id"], url)
            self.assertEqual({k: v for k, v in schema.items() if k != "$id"}, event_type.parsed_schema())
        etag = self.url_open(f"{API}/schemas/{TYPE}.json").headers["ETag"]
        cached = self.url_open(f"{API}/schemas/{TYPE}.json", headers={"If-None-Match": etag})
        self.assertEqual(cached.status_code, 304)
        self.assertProblem(self.url_open(f"{API}/schemas/mfg.no_such.thing.v1.json"), 404, "not-found")
        self.assertProblem(self.url_open(f"{API}/schemas/{TYPE}.json", data="{}"), 405)


class TestInboundSupport(InboundApiCase):
    def failed_message(self, odoo_code="WID-2"):
        response = self.post(self.event(odoo_code=odoo_code))
        self.assertEqual(response.status_code, 422)
        return self.messages()

    def test_reprocess_after_fixing_master_data(self):
        message = self.failed_message()
        self.env["product.product"].create({"name": "Widget 2", "default_code": "WID-2"})
        self.assertEqual(message.action_inbound_reprocess(), {message.id: "processed"})
        self.env.invalidate_all()
        self.assertEqual(message.state, "done")
        self.assertEqual(message.attempt_count, 2)
        self.assertEqual(self.mappings().target_ref.default_code, "WID-2")
        self.assertIn("Reprocessed by", message.message_ids[0].body)
        # At most once in total: a done message is not applied again.
        self.assertEqual(message.action_inbound_reprocess(), {})
        self.assertEqual(message.attempt_count, 2)
        # The sender replaying its key gets the current outcome, like GET.
        replay = self.post(json.loads(message.payload))
        self.assertEqual(replay.status_code, 200, replay.text)
        self.assertEqual(replay.headers["Idempotent-Replayed"], "true")
        self.assertEqual(self.get(f"/messages/{message.id}").json()["status"], "processed")

    def test_edit_payload_and_reprocess(self):
        message = self.failed_message(odoo_code="wid-1 ")
        original = message.payload
        wizard = self.env["mfg.integration.payload.edit.wizard"].with_context(default_message_id=message.id).create({})
        event = json.loads(wizard.payload)
        event["data"]["odoo_code"] = "WID-1"
        wizard.payload = json.dumps(event)
        wizard.action_apply()
        self.env.invalidate_all()
        self.assertEqual(message.state, "done")
        self.assertEqual(message.original_payload, original)
        self.assertEqual(json.loads(message.payload)["data"]["odoo_code"], "WID-1")
        bodies = " ".join(message.message_ids.mapped("body"))
        self.assertIn("Payload edited by", bodies)
        self.assertIn("wid-1 ", bodies)
        self.assertEqual(self.mappings().target_ref, self.product)

    def test_edit_cannot_change_the_event_id(self):
        message = self.failed_message()
        event = json.loads(message.payload)
        event["id"] = "other"
        with self.assertRaises(UserError):
            message._inbound_edit_payload(event)

    def test_ignore(self):
        message = self.failed_message()
        message.action_inbound_ignore()
        self.assertEqual(message.state, "cancelled")
        self.assertIn("Ignored by", message.message_ids[0].body)
        self.assertEqual(message.action_inbound_reprocess(), {})

    def test_support_actions_need_the_manager(self):
        message = self.failed_message()
        clerk = new_test_user(self.env, login="clerk", groups="mfg_integration.group_mfg_integration_user")
        with self.assertRaises(AccessError):
            message.with_user(clerk).action_inbound_reprocess()
