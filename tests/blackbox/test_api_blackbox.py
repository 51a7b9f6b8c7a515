"""The inbound API as an external system sees it: a real Odoo server process, driven with requests."""

import configparser
import json
import threading
import time
from datetime import datetime, timezone

import psycopg2
import pytest
import requests

from simulators.mfgsim.client import cloud_event

API = "/api/mfg/v1"
TYPE = "mfg.integration.code_mapping.reported.v1"
EVENT_TIME = datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)

SETUP = """
import json, uuid
from datetime import timedelta
from odoo import fields
code = "BB-" + uuid.uuid4().hex[:8]
event_type = env.ref("mfg_integration.event_type_code_mapping_reported")
system = env["mfg.integration.system"].create(
    {"name": code, "code": code, "inbound_event_type_ids": [(6, 0, event_type.ids)]}
)
# The documented way: the system form's Technical User and New API Key buttons.
user = system.action_create_technical_user()
key = env["mfg.integration.api.key.wizard"].create({
    "system_id": system.id, "user_id": user.id, "name": "black-box",
    "expiration_date": fields.Datetime.now() + timedelta(days=1),
}).action_generate()["context"]["default_key"]
if not env["product.product"].search([("default_code", "=", "BB-WIDGET")]):
    env["product.product"].create({"name": "Black-box widget", "default_code": "BB-WIDGET"})
print("RESULT" + json.dumps({"key": key, "system_id": system.id, "code": code}))
"""


@pytest.fixture(scope="module")
def external_system(odoo_server):
    out = odoo_server.odoo_shell(SETUP)
    line = next(line for line in out.splitlines() if line.startswith("RESULT"))
    return json.loads(line[len("RESULT") :])


@pytest.fixture
def session(external_system):
    http = requests.Session()
    http.headers.update(
        {"Authorization": f"Bearer {external_system['key']}", "Content-Type": "application/cloudevents+json"}
    )
    return http


def make_event(external_code="BB-1", odoo_code="BB-WIDGET", **extra):
    data = {"kind": "product", "external_code": external_code, "odoo_code": odoo_code}
    return dict(cloud_event(TYPE, data, "urn:mes:black-box", EVENT_TIME), **extra)


def pg_connect(odoo_server):
    config = configparser.ConfigParser()
    config.read(odoo_server.conf)
    options = config["options"]
    return psycopg2.connect(
        dbname=odoo_server.db,
        host=options.get("db_host"),
        port=options.get("db_port"),
        user=options.get("db_user"),
        password=options.get("db_password"),
    )


def test_event_applied_replayed_and_queried(odoo_server, session):
    event = make_event()
    response = session.post(odoo_server.url(f"{API}/events"), data=json.dumps(event), timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "processed"
    assert body["result"]["records"][0]["model"] == "mfg.integration.code.mapping"

    again = session.post(odoo_server.url(f"{API}/events"), data=json.dumps(event), timeout=30)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == body

    changed = dict(event, data=dict(event["data"], external_code="BB-OTHER"))
    conflict = session.post(odoo_server.url(f"{API}/events"), data=json.dumps(changed), timeout=30)
    assert conflict.status_code == 422
    assert conflict.headers["Content-Type"].startswith("application/problem+json")

    status = session.get(odoo_server.url(f"{API}/messages/{body['message_id']}"), timeout=30)
    assert status.status_code == 200
    assert status.json()["status"] == "processed"


def test_errors_are_problem_json(odoo_server, session):
    no_key = requests.post(
        odoo_server.url(f"{API}/events"), data="{}", headers={"Content-Type": "application/json"}, timeout=30
    )
    assert no_key.status_code == 401
    assert no_key.headers["Content-Type"].startswith("application/problem+json")
    malformed = session.post(odoo_server.url(f"{API}/events"), data="{nope", timeout=30)
    assert malformed.status_code == 400
    assert malformed.json()["type"] == "urn:mfg-integration:problem:malformed-json"
    failing = session.post(
        odoo_server.url(f"{API}/events"), data=json.dumps(make_event(odoo_code="MISSING-CODE")), timeout=30
    )
    assert failing.status_code == 422
    assert "MISSING-CODE" in failing.json()["detail"]


def test_batch(odoo_server, session):
    events = [make_event(external_code=f"BB-B{i}") for i in range(3)]
    events[1]["data"]["odoo_code"] = "MISSING"
    response = session.post(
        odoo_server.url(f"{API}/events/batch"),
        data=json.dumps(events),
        headers={"Content-Type": "application/cloudevents-batch+json"},
        timeout=60,
    )
    assert response.status_code == 207, response.text
    assert [r["status"] for r in response.json()["results"]] == [200, 422, 200]


def test_async_event_is_applied_by_the_cron(odoo_server, session):
    event = make_event(external_code="BB-ASYNC")
    response = session.post(
        odoo_server.url(f"{API}/events"), data=json.dumps(event), headers={"Prefer": "respond-async"}, timeout=30
    )
    assert response.status_code == 202, response.text
    message_id = response.json()["message_id"]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        status = session.get(odoo_server.url(f"{API}/messages/{message_id}"), timeout=30).json()["status"]
        if status == "processed":
            break
        time.sleep(1)
    assert status == "processed"


def test_same_key_while_first_request_applies_is_409(odoo_server, session, external_system):
    """Two real concurrent requests with one key: the second gets 409, nothing is applied twice."""
    seed = make_event(external_code="BB-LOCK")
    assert session.post(odoo_server.url(f"{API}/events"), data=json.dumps(seed), timeout=30).status_code == 200

    event = make_event(external_code="BB-LOCK")  # updates that same mapping row
    url = odoo_server.url(f"{API}/events")
    lock = pg_connect(odoo_server)
    watcher = pg_connect(odoo_server)
    watcher.autocommit = True
    first = {}
    try:
        with lock.cursor() as cr:
            # Holding the mapping's row lock keeps the first request inside its handler.
            cr.execute(
                "SELECT id FROM mfg_integration_code_mapping WHERE system_id = %s AND external_code = 'BB-LOCK' "
                "FOR UPDATE",
                [external_system["system_id"]],
            )
            assert cr.fetchone()

            def send_first():
                first["response"] = session.post(url, data=json.dumps(event), timeout=120)

            thread = threading.Thread(target=send_first)
            thread.start()
            deadline = time.monotonic() + 30
            state = None
            while time.monotonic() < deadline:
                with watcher.cursor() as wcr:
                    wcr.execute(
                        "SELECT state FROM mfg_integration_message WHERE direction = 'inbound' AND system_id = %s "
                        "AND idempotency_key = %s",
                        [external_system["system_id"], event["id"]],
                    )
                    row = wcr.fetchone()
                state = row and row[0]
                if state == "in_progress":
                    break
                time.sleep(0.1)
            assert state == "in_progress", "the first request stored its message before applying it"
            time.sleep(0.5)  # let the first request reach its handler

            second = session.post(url, data=json.dumps(event), timeout=30)
            assert second.status_code == 409, second.text
            assert second.headers["Content-Type"].startswith("application/problem+json")
            assert second.headers["Retry-After"]
        lock.rollback()  # release: the first request finishes
        thread.join(60)
        assert first["response"].status_code == 200, first["response"].text
        third = session.post(url, data=json.dumps(event), timeout=30)
        assert third.status_code == 200
        assert third.headers["Idempotent-Replayed"] == "true"
        with watcher.cursor() as wcr:
            wcr.execute(
                "SELECT attempt_count, state FROM mfg_integration_message"
                " WHERE system_id = %s AND idempotency_key = %s",
                [external_system["system_id"], event["id"]],
            )
            assert wcr.fetchall() == [(1, "done")]
    finally:
        lock.close()
        watcher.close()
