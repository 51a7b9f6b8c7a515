"""Truly concurrent posts of one event against the real server process (issue 10 item 10), and
405 problem+json on every API route (issue 9 item 11)."""

import json
import threading

import pytest
import requests

from .test_api_blackbox import API, external_system, make_event, pg_connect  # noqa: F401 - fixture

ROUNDS = 12
CONCURRENT = 6

# An Integration User's own monitoring key (Reporting > Monitoring API Key): the only key /metrics takes.
MONITORING_SETUP = """
import json, uuid
from datetime import timedelta
from odoo import fields
user = env["res.users"].create({
    "name": "Monitoring", "login": "monitoring-" + uuid.uuid4().hex[:6],
    "groups_id": [(6, 0, env.ref("mfg_integration.group_mfg_integration_user").ids)],
})
key = env["mfg.integration.api.key.wizard"].with_user(user).create({
    "user_id": user.id, "scope": "mfg_integration_monitoring", "name": "monitoring",
    "expiration_date": fields.Datetime.now() + timedelta(days=1),
}).action_generate()["context"]["default_key"]
print("RESULT" + json.dumps({"key": key}))
"""


@pytest.fixture(scope="module")
def monitoring_key(odoo_server):
    out = odoo_server.odoo_shell(MONITORING_SETUP)
    return json.loads(out.split("RESULT", 1)[1])["key"]


def post_together(url, headers, body, count):
    """``count`` posts released at the same instant by a barrier; their responses."""
    barrier = threading.Barrier(count)
    responses = [None] * count

    def send(index):
        with requests.Session() as http:
            barrier.wait()
            responses[index] = http.post(url, data=body, headers=headers, timeout=120)

    threads = [threading.Thread(target=send, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    return responses


def test_concurrent_posts_of_one_event_apply_it_exactly_once(odoo_server, external_system):  # noqa: F811
    url = odoo_server.url(f"{API}/events")
    headers = {"Authorization": f"Bearer {external_system['key']}", "Content-Type": "application/cloudevents+json"}
    db = pg_connect(odoo_server)
    db.autocommit = True
    try:
        for round_number in range(ROUNDS):
            event = make_event(external_code=f"BB-RACE-{round_number}")
            responses = post_together(url, headers, json.dumps(event), CONCURRENT)
            statuses = [(r.status_code, r.headers.get("Idempotent-Replayed")) for r in responses]
            applied = [r for r in responses if r.status_code == 200 and "Idempotent-Replayed" not in r.headers]
            assert len(applied) == 1, f"round {round_number}: {statuses}"
            for response in responses:
                assert response.status_code in (200, 409), f"round {round_number}: {statuses}"
            with db.cursor() as cr:
                cr.execute(
                    "SELECT state, attempt_count FROM mfg_integration_message"
                    " WHERE direction = 'inbound' AND system_id = %s AND idempotency_key = %s",
                    [external_system["system_id"], event["id"]],
                )
                assert cr.fetchall() == [("done", 1)], f"round {round_number}"
                cr.execute(
                    "SELECT count(*) FROM mfg_integration_code_mapping WHERE system_id = %s AND external_code = %s",
                    [external_system["system_id"], f"BB-RACE-{round_number}"],
                )
                assert cr.fetchone()[0] == 1
    finally:
        db.close()


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/events", "GET"),
        ("/events", "DELETE"),
        ("/events/batch", "PUT"),
        ("/messages/1", "POST"),
        ("/openapi.json", "POST"),
        ("/health", "POST"),
        ("/health", "DELETE"),
        ("/metrics", "POST"),
    ],
)
def test_every_route_answers_405_as_problem_json(odoo_server, external_system, monitoring_key, path, method):  # noqa: F811
    key = monitoring_key if path == "/metrics" else external_system["key"]
    response = requests.request(
        method,
        odoo_server.url(API + path),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        data="{}",
        timeout=30,
    )
    assert response.status_code == 405, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == 405
    assert response.headers["Allow"]
