"""Standard Webhooks signatures, cross-checked with the independent `standardwebhooks` package."""

import base64
import time
from datetime import datetime, timezone

import pytest
from mfg_integration_lib import signing
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug.datastructures import Headers

BODY = b'{"specversion":"1.0","id":"evt-1","data":{"quantity":5.0,"unit":"\xc2\xb5m"}}'
T0 = 1_700_000_000
# The example of the Standard Webhooks specification and of its reference test suites.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def _now():
    return int(time.time())


def test_known_vector_of_the_specification():
    assert signing.sign(SPEC_SECRET, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    when = datetime.fromtimestamp(SPEC_TIMESTAMP, tz=timezone.utc)
    assert Webhook(SPEC_SECRET).sign(SPEC_MSG_ID, when, SPEC_BODY.decode()) == SPEC_SIGNATURE


@pytest.mark.parametrize("body", [b"", b"{}", BODY, "caf\u00e9 \u2713".encode()])
def test_sign_equals_the_reference_implementation(body):
    secret = signing.generate_secret()
    when = datetime.fromtimestamp(T0, tz=timezone.utc)
    assert signing.sign(secret, "msg_42", T0, body) == Webhook(secret).sign("msg_42", when, body.decode())


def test_generated_secrets_are_32_random_bytes_with_the_prefix():
    secrets = {signing.generate_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
        assert signing.secret_bytes(secret) == base64.b64decode(secret[6:])


def test_secret_prefix_is_optional_like_in_the_reference_implementation():
    assert signing.secret_bytes(SPEC_SECRET) == signing.secret_bytes(SPEC_SECRET.removeprefix("whsec_"))


@pytest.mark.parametrize("secret", ["whsec_", "", "whsec_abc", "whsec_not base64!", "whsec_QUJD\n", None, False, 42])
def test_malformed_secrets_are_refused(secret):
    with pytest.raises(ValueError, match="signing secret"):
        signing.secret_bytes(secret)


def test_webhook_headers():
    headers = signing.webhook_headers([SPEC_SECRET], SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_BODY)
    assert headers == {
        "webhook-id": SPEC_MSG_ID,
        "webhook-timestamp": "1614265330",
        "webhook-signature": SPEC_SIGNATURE,
    }


def test_our_signature_is_accepted_by_the_reference_implementation():
    secret = signing.generate_secret()
    headers = signing.webhook_headers([secret], "evt-1", _now(), BODY)
    assert Webhook(secret).verify(BODY, headers)["data"] == {"quantity": 5.0, "unit": "\u00b5m"}


@pytest.mark.parametrize("case", [str.lower, str.title, str.upper])
def test_reference_signature_is_accepted_by_our_verify_whatever_the_header_case(case):
    secret = signing.generate_secret()
    when = datetime.now(timezone.utc)
    signature = Webhook(secret).sign("evt-2", when, BODY.decode())
    headers = {
        case("webhook-id"): "evt-2",
        case("webhook-timestamp"): str(int(when.timestamp())),
        case("webhook-signature"): signature,
    }
    assert signing.verify([secret], headers, BODY) is None


def test_verify_reads_werkzeug_request_headers():
    # What the controller passes: httprequest.headers, a werkzeug Headers object, not a dict.
    secret = signing.generate_secret()
    headers = Headers(list(signing.webhook_headers([secret], "evt-w", T0, BODY).items()))
    signing.verify([secret], headers, BODY, now=T0)


def test_rotation_signs_with_every_secret_and_either_verifies():
    old, new = signing.generate_secret(), signing.generate_secret()
    fresh = _now()
    headers = signing.webhook_headers([new, old], "evt-3", fresh, BODY)
    assert headers["webhook-signature"].split() == [
        signing.sign(new, "evt-3", fresh, BODY),
        signing.sign(old, "evt-3", fresh, BODY),
    ]
    for secret in (old, new):
        signing.verify([secret], headers, BODY, now=fresh)
        Webhook(secret).verify(BODY, headers)  # the reference agrees
    # A receiver holding both secrets accepts a sender that still has only the old one.
    signing.verify([new, old], signing.webhook_headers([old], "evt-3", fresh, BODY), BODY, now=fresh)


TAMPERINGS = {
    "body": lambda headers, body: (headers, body.replace(b"5.0", b"6.0")),
    "msg_id": lambda headers, body: ({**headers, "webhook-id": "evt-other"}, body),
    "timestamp": lambda headers, body: (
        {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) + 1)},
        body,
    ),
}


@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_any_tampering_is_refused_by_us_and_by_the_reference(tamper):
    secret = signing.generate_secret()
    fresh = _now()
    headers, body = tamper(signing.webhook_headers([secret], "evt-4", fresh, BODY), BODY)
    with pytest.raises(signing.SignatureError, match="no matching signature"):
        signing.verify([secret], headers, body, now=fresh)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers)


def test_wrong_secret_is_refused():
    headers = signing.webhook_headers([signing.generate_secret()], "evt-6", T0, BODY)
    with pytest.raises(signing.SignatureError, match="no matching signature"):
        signing.verify([signing.generate_secret()], headers, BODY, now=T0)
    with pytest.raises(signing.SignatureError, match="no matching signature"):
        signing.verify([], headers, BODY, now=T0)


@pytest.mark.parametrize(
    ("now", "reason"),
    [(T0 + 300, None), (T0 + 301, "timestamp too old"), (T0 - 300, None), (T0 - 301, "timestamp too new")],
)
def test_tolerance_boundaries(now, reason):
    secret = signing.generate_secret()
    headers = signing.webhook_headers([secret], "evt-7", T0, BODY)
    if reason is None:
        signing.verify([secret], headers, BODY, now=now)
    else:
        with pytest.raises(signing.SignatureError, match=reason):
            signing.verify([secret], headers, BODY, now=now)


def test_stale_timestamps_are_refused_by_the_reference_too():
    secret = signing.generate_secret()
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, signing.webhook_headers([secret], "evt-8", _now() - 3600, BODY))
    with pytest.raises(signing.SignatureError, match="timestamp too old"):
        signing.verify([secret], signing.webhook_headers([secret], "evt-8", _now() - 3600, BODY), BODY)


def test_custom_tolerance():
    secret = signing.generate_secret()
    headers = signing.webhook_headers([secret], "evt-9", T0, BODY)
    signing.verify([secret], headers, BODY, now=T0 + 3600, tolerance=3600)
    with pytest.raises(signing.SignatureError, match="timestamp too old"):
        signing.verify([secret], headers, BODY, now=T0 + 61, tolerance=60)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_is_named(missing):
    secret = signing.generate_secret()
    headers = signing.webhook_headers([secret], "evt-10", T0, BODY)
    del headers[missing]
    with pytest.raises(signing.SignatureError, match=f"^missing header {missing}$"):
        signing.verify([secret], headers, BODY, now=T0)


@pytest.mark.parametrize(
    "timestamp", ["soon", "", "1_700_000_000", " 1700000000", "+1700000000", "-5", "1.7e9", "\u0661\u0662\u0663"]
)
def test_malformed_timestamp(timestamp):
    secret = signing.generate_secret()
    headers = {**signing.webhook_headers([secret], "evt-11", T0, BODY), "webhook-timestamp": timestamp}
    with pytest.raises(signing.SignatureError, match=r"^malformed timestamp$"):
        signing.verify([secret], headers, BODY, now=T0)


@pytest.mark.parametrize("signature", ["v1,\u00e9t\u00e9", "v2,abc", "v1a,abc", "", "   ", "garbage"])
def test_hostile_or_foreign_signatures_are_refused_cleanly(signature):
    # Non-ASCII would make hmac.compare_digest raise TypeError on str: a 500 instead of a 401.
    secret = signing.generate_secret()
    headers = {**signing.webhook_headers([secret], "evt-12", T0, BODY), "webhook-signature": signature}
    with pytest.raises(signing.SignatureError, match="no matching signature"):
        signing.verify([secret], headers, BODY, now=T0)


def test_one_matching_signature_among_several_is_enough():
    secret = signing.generate_secret()
    good = signing.sign(secret, "evt-13", T0, BODY)
    headers = {"webhook-id": "evt-13", "webhook-timestamp": str(T0), "webhook-signature": f"v2,xyz v1,AAAA {good}"}
    signing.verify([signing.generate_secret(), secret], headers, BODY, now=T0)


def test_signature_error_is_a_value_error():
    assert issubclass(signing.SignatureError, ValueError)
