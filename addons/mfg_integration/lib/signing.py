"""Standard Webhooks signatures (https://www.standardwebhooks.com/)."""

import base64
import hashlib
import hmac
import secrets as _secrets
import time

PREFIX = "whsec_"


class SignatureError(ValueError):
    """An inbound request's signature is missing, stale or wrong."""


def generate_secret():
    return PREFIX + base64.b64encode(_secrets.token_bytes(32)).decode()


def secret_bytes(secret):
    if not isinstance(secret, str) or not secret.startswith(PREFIX):
        raise ValueError("a signing secret starts with 'whsec_'")
    try:
        return base64.b64decode(secret[len(PREFIX):], validate=True)
    except ValueError as error:
        raise ValueError("a signing secret is 'whsec_' followed by base64") from error


def sign(secret, msg_id, timestamp, body):
    signed = f"{msg_id}.{int(timestamp)}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets, msg_id, timestamp, body):
    # One signature per secret: receivers accept any, which makes secret rotation seamless.
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets)


def webhook_headers(secrets, msg_id, timestamp, body):
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
    }


def _header(headers, name):
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise SignatureError(f"missing header {name}")


def verify(secrets, headers, body, now=None, tolerance=300):
    """Accept when any v1 signature matches any secret and the timestamp is fresh."""
    msg_id = _header(headers, "webhook-id")
    timestamp_text = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    try:
        timestamp = int(timestamp_text)
    except ValueError as error:
        raise SignatureError("malformed timestamp") from error
    now = int(time.time()) if now is None else now
    if timestamp < now - tolerance:
        raise SignatureError("timestamp too old")
    if timestamp > now + tolerance:
        raise SignatureError("timestamp too new")
    offered = [part for part in signatures.split() if part.startswith("v1,")]
    for secret in secrets:
        expected = sign(secret, msg_id, timestamp, body)
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return
    raise SignatureError("no matching signature")
