"""The simulators' client library (simulators/mfgsim) against a real local HTTP server."""

import json
from datetime import datetime, timezone

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from simulators.mfgsim import HubClient, StoreAndForward, cloud_event, verify_webhook
from simulators.mfgsim.counterpart import Schedule
from simulators.mfgsim.plant import MES_ARTICLES, own_code
from simulators.mfgsim.scripted_receiver import Answer, Receiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def hub(request):
    """A local hub answering from a script of (status, headers, JSON body), recording each request."""
    receiver = Receiver().answer(
        *(Answer(status, headers, body=json.dumps(body)) for status, headers, body in request.param)
    )
    yield receiver.start()
    receiver.stop()


def test_verify_webhook_accepts_the_signature_and_refuses_a_tampered_body():
    body = json.dumps(cloud_event("mfg.production_order.released.v1", {"production_order": "NP/MO/1"}, "urn:odoo"))
    now = datetime.now(timezone.utc)
    headers = {
        "Webhook-Id": "msg-1",
        "Webhook-Timestamp": str(int(now.timestamp())),
        "Webhook-Signature": Webhook(SECRET).sign("msg-1", now, body),
    }
    assert verify_webhook(SECRET, body, headers)["data"] == {"production_order": "NP/MO/1"}
    with pytest.raises(WebhookVerificationError):
        verify_webhook(SECRET, body.replace("NP/MO/1", "NP/MO/2"), headers)


@pytest.mark.parametrize("hub", [[(503, {"Retry-After": "0"}, {}), (200, {}, {"message_id": 7})]], indirect=True)
def test_post_retries_after_retry_after_with_the_same_idempotency_key(hub):
    client = HubClient(hub.base_url, "key", "urn:test", backoff=0)
    event = client.event("mfg.inventory.count_reported.v1", {"location": "BIN-A1"})
    response = client.post(event)
    assert response.status_code == 200 and response.json() == {"message_id": 7}
    assert [item.headers["Idempotency-Key"] for item in hub.received] == [event["id"], event["id"]]
    assert hub.received[0].headers["Authorization"] == "Bearer key"


@pytest.mark.parametrize("hub", [[(422, {}, {"detail": "Unknown product code"})]], indirect=True)
def test_post_returns_a_business_refusal_without_retrying(hub):
    client = HubClient(hub.base_url, "key", "urn:test", backoff=0)
    assert client.post(client.event("t", {})).status_code == 422
    assert len(hub.received) == 1


BATCH_ANSWERS = [
    (
        207,
        {},
        {
            "results": [
                {"id": "a", "status": 200, "replayed": False},
                {"id": "b", "status": 409, "replayed": False},
                {"id": "c", "status": 422, "replayed": False},
            ]
        },
    ),
    (207, {}, {"results": [{"id": "b", "status": 200, "replayed": True}]}),
]


@pytest.mark.parametrize("hub", [BATCH_ANSWERS], indirect=True)
def test_buffer_flushes_oldest_first_and_keeps_what_is_still_being_applied(hub, tmp_path):
    client = HubClient(hub.base_url, "key", "urn:test", backoff=0)
    buffer = StoreAndForward(str(tmp_path / "outbox.sqlite"))
    for event_id in "abc":
        buffer.add(cloud_event("t", {"n": event_id}, "urn:test", event_id=event_id))
    assert [r["id"] for r in buffer.flush(client)] == ["a", "b", "c"]
    assert len(buffer) == 1, "409: the hub is still applying it, ask again"
    assert [r["status"] for r in buffer.flush(client)] == [200]
    assert len(buffer) == 0
    assert [[e["id"] for e in item.json()] for item in hub.received] == [["a", "b", "c"], ["b"]]
    assert {item.path for item in hub.received} == {"/api/mfg/v1/events/batch"}


def test_schedule_fires_one_shot_faults_once_per_cycle_and_only_once_in_a_shift():
    demo = Schedule(period=100, start=0, faults=True)
    assert [demo.due_once("unknown_article", now) for now in (10, 25, 30, 125)] == [False, True, False, True]
    assert [demo.active("mes_offline", now) for now in (29, 30, 49, 50, 135)] == [False, True, True, False, True]
    shift = Schedule(period=100, start=0, faults=True, once=True)
    assert shift.active("mes_offline", 35) and not shift.active("mes_offline", 135)
    assert shift.due_once("unknown_article", 25) and not shift.due_once("unknown_article", 125)
    assert shift.due("duplicate_post", 125), "a one-shot fault that found nothing to hit yet stays due"
    assert not Schedule(period=100, start=0, faults=False).active("mes_offline", 35)


def test_counterparts_read_their_own_codes_or_odoo_codes():
    assert own_code(MES_ARTICLES["NP"], "A-2001") == "A-2001"
    assert own_code(MES_ARTICLES["NP"], "CMP-HOUSING") == "A-2001"
    assert own_code(MES_ARTICLES["SP"], "CMP-HOUSING") == "S-HSG"
    assert own_code(MES_ARTICLES["NP"], "NOPE") is None
