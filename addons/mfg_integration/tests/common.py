# These tests commit on purpose: the outbox and the dispatcher are about commits and rollbacks.
# pylint: disable=invalid-commit
"""Shared set-up for the integration hub's tests."""

import json
import uuid
from datetime import datetime, timedelta, timezone

import requests

from odoo import SUPERUSER_ID, api, fields
from odoo.modules.registry import Registry
from odoo.tests.common import BaseCase, JsonRpcException, TransactionCase, get_db_name, new_test_user
from odoo.tools import config

from simulators.mfgsim.client import cloud_event
from simulators.mfgsim.scripted_receiver import Receiver
from tests.harness import free_port

from ..models.res_users_apikeys import API_SCOPE

ORDER_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["reference", "quantity"],
    "additionalProperties": False,
    "properties": {
        "reference": {"type": "string", "minLength": 1},
        "quantity": {"type": "number", "exclusiveMinimum": 0},
    },
}
EVENT_TIME = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)  # a fixed CloudEvents time for the tests' events


class IntegrationFixtures:
    """Builders for systems, endpoints and event types; ``self.env`` is set by the case."""

    def make_event_type(self, schema=None, direction="outbound", **vals):
        code = vals.pop("code", f"mfg.test_{uuid.uuid4().hex[:10]}.happened.v1")
        return self.env["mfg.integration.event.type"].create(
            dict(
                code=code,
                name=code,
                direction=direction,
                json_schema=json.dumps(schema or ORDER_SCHEMA),
                **vals,
            )
        )

    def make_system(self, **vals):
        code = vals.pop("code", f"SYS-{uuid.uuid4().hex[:8]}")
        return self.env["mfg.integration.system"].create(dict(name=code, code=code, **vals))

    def make_endpoint(self, system, url, event_types, **vals):
        return self.env["mfg.integration.endpoint"].create(
            dict(
                name=f"{system.code} endpoint",
                system_id=system.id,
                url=url,
                subscription_ids=[(0, 0, {"event_type_id": t.id}) for t in event_types],
                **vals,
            )
        )

    def make_partner(self, name="Test record"):
        return self.env["res.partner"].create({"name": name})

    def messages_of(self, endpoints):
        return self.env["mfg.integration.message"].search([("endpoint_id", "in", endpoints.ids)], order="id")


def make_api_key(env, user, name="test", scope=API_SCOPE):
    """A scoped key made the documented way: the system form's New API Key wizard, run by ``env``'s
    user (an Integration Manager) for the technical ``user``; monitoring keys by ``user`` itself."""
    wizard_env = env if scope == API_SCOPE else env(user=user)
    wizard = wizard_env["mfg.integration.api.key.wizard"].create(
        {
            "system_id": user.mfg_system_id.id if scope == API_SCOPE else False,
            "user_id": user.id,
            "scope": scope,
            "name": name,
            "expiration_date": fields.Datetime.now() + timedelta(days=1),
        }
    )
    return wizard.action_generate()["context"]["default_key"]


class InboundApiMixin:
    """An external system calling the inbound API from an HttpCase: its API key and CloudEvents posts."""

    event_source = "urn:test:system"

    def make_api_key(self, user, name="test", scope=API_SCOPE):
        return make_api_key(self.env, user, name, scope)

    def post_event(self, event_type, data, key=None, event_id=None):
        response = self.url_open(
            "/api/mfg/v1/events",
            data=json.dumps(cloud_event(event_type, data, self.event_source, EVENT_TIME, event_id)),
            headers={"Authorization": f"Bearer {key or self.key}", "Content-Type": "application/cloudevents+json"},
        )
        self.env.invalidate_all()
        return response

    def ignore(self, problem_body):
        """Support ignores the failed message of ``problem_body``: later messages about its subject
        (order, transfer, lot) then apply (the ordered inbox)."""
        self.env["mfg.integration.message"].browse(problem_body["message_id"]).action_inbound_ignore()

    def assertProcessed(self, response):
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        self.assertEqual(body["status"], "processed")
        return body["result"]

    def assertBusinessError(self, response, path, *words):
        self.assertEqual(response.status_code, 422, response.text)
        body = response.json()
        self.assertEqual(body["errors"][0]["path"], path, body)
        for word in words:
            self.assertIn(word, body["detail"])
        return body


class IntegrationCase(TransactionCase, IntegrationFixtures):
    """ORM tests in one rolled-back transaction (no dispatching: that needs commits)."""


class CommittedCase(BaseCase, IntegrationFixtures):
    """Tests whose transactions really commit: the outbox and the dispatcher are
    about what happens at commit, rollback and between concurrent transactions.

    Each test builds its own systems and event types and removes everything it
    created; receivers are real HTTP servers on 127.0.0.1.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())

    def setUp(self):
        super().setUp()
        self.cr = self.registry.cursor()
        self.env = api.Environment(self.cr, SUPERUSER_ID, {})
        self._systems = self.env["mfg.integration.system"]
        self._event_types = self.env["mfg.integration.event.type"]
        self.addCleanup(self._cleanup)

    def make_system(self, **vals):
        system = super().make_system(**vals)
        self._systems |= system
        return system

    def make_event_type(self, schema=None, direction="outbound", **vals):
        event_type = super().make_event_type(schema, direction, **vals)
        self._event_types |= event_type
        return event_type

    def receiver(self, **kwargs):
        receiver = Receiver(**kwargs).start()
        self.addCleanup(receiver.stop)
        return receiver

    def new_env(self):
        """An environment on a cursor of its own (another worker's transaction)."""
        cr = self.registry.cursor()
        self.addCleanup(cr.close)
        return api.Environment(cr, SUPERUSER_ID, {})

    def dispatch(self, env=None):
        """Run the dispatcher as the cron does, on its own cursor, without waiting for retries
        due soon (the tests bring them forward with make_due)."""
        env = env or self.new_env()
        return env["mfg.integration.message"]._cron_dispatch(time_budget=30, linger=0)

    def call_api(self, method, path, key=None, **kwargs):
        """``method`` ``path`` on the running server as an external system calls it, with its API key
        (``self.key`` unless ``key``), then a fresh snapshot: see what the API committed."""
        response = requests.request(
            method,
            f"http://127.0.0.1:{config['http_port']}{path}",
            headers={"Authorization": f"Bearer {key or self.key}", **kwargs.pop("headers", {})},
            timeout=120,
            **kwargs,
        )
        self.cr.commit()
        self.env.invalidate_all()
        return response

    def make_due(self, messages):
        """Bring retries forward to now, as if their backoff delay had passed."""
        self.cr.execute(
            "UPDATE mfg_integration_message SET next_attempt_at = now() at time zone 'utc' - interval '1 second'"
            " WHERE id = ANY(%s) AND state = 'retry'",
            [messages.ids],
        )
        self.cr.commit()
        messages.invalidate_recordset()

    def messages_of(self, endpoints):
        self.cr.commit()  # a fresh snapshot: see what the dispatchers committed
        return super().messages_of(endpoints)

    def refresh(self, records):
        self.cr.commit()  # end our snapshot so we see what other transactions committed
        records.invalidate_recordset()
        return records

    def _cleanup(self):
        self.cr.rollback()
        endpoints = self._systems.endpoint_ids.with_context(active_test=False)
        messages = self.env["mfg.integration.message"].search(
            ["|", ("endpoint_id", "in", endpoints.ids), ("system_id", "in", self._systems.ids)]
        )
        messages.unlink()
        self._systems.unlink()
        self._event_types.unlink()
        self.cr.commit()
        self.cr.close()


class BrokerAccessCases:
    """Through JSON-RPC as a signed-in user (HttpCase): who may read a broker's secrets and create brokers.
    A broker addon's test class sets ``broker_model`` and ``broker_values`` (with a ``password``)."""

    broker_model = ""
    broker_values = {}

    def setUp(self):
        super().setUp()
        self.broker = self.env[self.broker_model].create(self.broker_values)
        groups = {
            "employee": "base.group_user",
            "integration-user": "mfg_integration.group_mfg_integration_user",
            "integration-manager": "mfg_integration.group_mfg_integration_manager",
        }
        for login, group in groups.items():
            new_test_user(self.env, login=f"broker-{login}", password=f"broker-{login}-pw1", groups=group)

    def call(self, login, method, *args, **kwargs):
        """``method`` of the broker model called by ``login`` through the web client's RPC."""
        self.authenticate(f"broker-{login}", f"broker-{login}-pw1")
        params = {"model": self.broker_model, "method": method, "args": list(args), "kwargs": kwargs}
        return self.make_jsonrpc_request("/web/dataset/call_kw", params)

    def assertRefused(self, login, method, *args, **kwargs):
        with self.assertRaises(JsonRpcException, msg=f"{login}: {method}") as caught:
            self.call(login, method, *args, **kwargs)
        self.assertIn("AccessError", str(caught.exception))

    def test_no_user_reads_the_stored_secret_and_only_managers_create_brokers(self):
        secret = self.broker_values["password"]
        for login in ("employee", "integration-user", "integration-manager"):
            self.assertRefused(login, "read", [self.broker.id], ["password_encrypted"])
            self.assertRefused(login, "search_read", [("id", "=", self.broker.id)], ["password_encrypted"])
        self.assertRefused("employee", "read", [self.broker.id], ["host"])
        for login in ("integration-user", "integration-manager"):
            (record,) = self.call(login, "read", [self.broker.id], ["password", "has_password"])
            self.assertEqual((record["password"], record["has_password"]), (False, True), login)
            self.assertNotIn(secret, json.dumps(self.call(login, "web_read", [self.broker.id], {"password": {}})))
        values = dict(self.broker_values, name="Rogue broker", host="rogue.example.com")
        for login in ("employee", "integration-user"):
            self.assertRefused(login, "create", [values])
            self.assertRefused(login, "write", [self.broker.id], {"host": "rogue.example.com"})
            self.assertRefused(login, "action_test_connection", [self.broker.id])
        self.assertRefused("integration-manager", "write", [self.broker.id], {"password_encrypted": "forged"})
        (created,) = self.call("integration-manager", "create", [values])
        self.assertEqual(self.env[self.broker_model].browse(created).host, "rogue.example.com")
        self.assertEqual(self.env[self.broker_model].search_count([("host", "=", "rogue.example.com")]), 1)


def assert_test_connection(case, broker, down_error):
    """The broker's Test Connection succeeds, then, with nothing listening on its port (a broker that is down),
    fails naming ``down_error``."""
    result = broker.action_test_connection()
    case.assertEqual(result["params"]["type"], "success", result["params"]["message"])
    broker.port = free_port()
    result = broker.action_test_connection()
    case.assertEqual(result["params"]["type"], "danger")
    case.assertIn(down_error, result["params"]["message"])
