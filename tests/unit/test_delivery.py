"""The values the dispatcher sends: headers signed at send time."""

import time

from mfg_integration_lib import delivery, signing

BODY = b'{"specversion":"1.0","id":"evt-1","data":{}}'


def _policy(failing=False, secrets=None):
    return delivery.EndpointPolicy(
        id=1, url="https://erp.example.com/hook", timeout=10.0, max_attempts=8, backoff_base=10.0,
        backoff_cap=3600.0, max_parallel=4, secrets=secrets or [signing.generate_secret()], failing=failing,
    )


def test_signed_headers_verify_with_the_endpoint_secrets():
    old, new = signing.generate_secret(), signing.generate_secret()
    item = delivery.Delivery(message_id=7, event_id="evt-1", company_id=1, created_at=None, attempt_count=0,
                             body=BODY, endpoint=_policy(secrets=[new, old]))
    before = int(time.time())
    headers = item.signed_headers()
    assert headers["Content-Type"] == "application/cloudevents+json"
    assert headers["User-Agent"] == delivery.USER_AGENT
    assert headers["webhook-id"] == "evt-1"
    assert before <= int(headers["webhook-timestamp"]) <= int(time.time()), "signed now, not at claim time"
    signing.verify([old], headers, BODY)
    signing.verify([new], headers, BODY)


def test_a_failing_endpoint_gets_one_probe_at_a_time():
    assert _policy(failing=False).parallel_limit == 4
    assert _policy(failing=True).parallel_limit == 1
