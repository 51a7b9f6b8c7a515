"""Standard Webhooks signatures, cross-checked with the independent `standardwebhooks` package."""

import base64
from datetime import datetime, timezone

import pytest
from mfg_integration_lib import signing
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

BODY = b'{"specversion":"1.0","id":"evt-1","data":{"quantity":5.0}}'


def test_our_signature_is_accepted_by_the_reference_implementation():
    secret = signing.generate_secret()
    now = int(datetime.now(timezone.utc).timestamp())
    headers = signing.webhook_headers([secret], "evt-1", now, BODY)
    assert Webhook(secret).verify(BODY, headers) == {"specversion": "1.0", "id": "evt-1", "data": {"quantity": 5.0}}


def test_reference_signature_is_accepted_by_our_verify():
    secret = signing.generate_secret()
    when = datetime.now(timezone.utc)
    signature = Webhook(secret).sign("evt-2", when, BODY.decode())
    headers = {"Webhook-Id": "evt-2", "Webhook-Timestamp": str(int(when.timestamp())), "Webhook-Signature": signature}
    signing.verify([secret], headers, BODY)


def test_known_vector():
    # HMAC-SHA256 of "msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{body}" with the spec's example secret.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert signing.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_rotation_signs_with_every_secret_and_either_verifies():
    old, new = signing.generate_secret(), signing.generate_secret()
    headers = signing.webhook_headers([new, old], "evt-3", 1_700_000_000, BODY)
    assert len(headers["webhook-signature"].split()) == 2
    for secret in (old, new):
        signing.verify([secret], headers, BODY, now=1_700_000_000)
    # The reference implementation accepts the old secret's signature too.
    fresh = int(datetime.now(timezone.utc).timestamp())
    Webhook(old).verify(BODY, signing.webhook_headers([new, old], "evt-3", fresh, BODY))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"body": BODY.replace(b"5.0", b"6.0")}, "no matching signature"),
        ({"now": 1_700_000_000 + 301}, "timestamp too old"),
        ({"now": 1_700_000_000 - 301}, "timestamp too new"),
    ],
)
def test_tampered_or_stale_requests_are_refused(change, reason):
    secret = signing.generate_secret()
    headers = signing.webhook_headers([secret], "evt-4", 1_700_000_000, BODY)
    with pytest.raises(signing.SignatureError, match=reason):
        signing.verify([secret], headers, change.get("body", BODY), now=change.get("now", 1_700_000_000))
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(change.get("body", BODY), signing.webhook_headers([secret], "evt-4", 1, BODY))


def test_missing_header_and_malformed_secret():
    secret = signing.generate_secret()
    with pytest.raises(signing.SignatureError, match="missing header webhook-signature"):
        signing.verify([secret], {"webhook-id": "x", "webhook-timestamp": "1"}, BODY, now=1)
    with pytest.raises(signing.SignatureError, match="malformed timestamp"):
        signing.verify([secret], {"webhook-id": "x", "webhook-timestamp": "soon", "webhook-signature": "v1,x"}, BODY)
    with pytest.raises(ValueError):
        signing.secret_bytes("not-a-secret")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
