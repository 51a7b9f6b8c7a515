"""Standard Webhooks signatures (https://www.standardwebhooks.com/)."""

import base64
import binascii
import hashlib
import hmac
import secrets as _secrets
import time
from collections.abc import Iterable, Mapping

PREFIX = "whsec_"
SIGNATURE_VERSION = "v1,"
HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"


class SignatureError(ValueError):
    """An inbound request's signature is missing, stale or wrong."""


def generate_secret() -> str:
    return PREFIX + base64.b64encode(_secrets.token_bytes(32)).decode()


def secret_bytes(secret: str) -> bytes:
    """The HMAC key of a 'whsec_<base64>' secret (the prefix is optional, as in the reference libraries)."""
    if not isinstance(secret, str):
        # ValueError, not TypeError: callers catch ValueError for any unusable secret (an empty Odoo field is False).
        raise ValueError("a signing secret is a string: 'whsec_' followed by base64")  # noqa: TRY004
    try:
        key = base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("a signing secret is 'whsec_' followed by base64") from error
    if not key:
        raise ValueError("a signing secret must not be empty")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{int(timestamp)}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return SIGNATURE_VERSION + base64.b64encode(digest).decode()


def signature_header(secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    # One signature per secret: receivers accept any, which makes secret rotation seamless.
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets)


def webhook_headers(secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        HEADER_ID: msg_id,
        HEADER_TIMESTAMP: str(int(timestamp)),
        HEADER_SIGNATURE: signature_header(secrets, msg_id, timestamp, body),
    }


def _header(headers: Mapping, name: str) -> str:
    # HTTP header names are case-insensitive, a plain dict lookup is not.
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise SignatureError(f"missing header {name}")


def _parse_timestamp(text: str) -> int:
    # int() alone would also take ' 17', '+17' or '1_700': only plain digits are a Unix timestamp here.
    if not (text.isascii() and text.isdigit()):
        raise SignatureError("malformed timestamp")
    return int(text)


def verify(secrets: Iterable[str], headers: Mapping, body: bytes, now: int | None = None, tolerance: int = 300) -> None:
    """Accept when any v1 signature matches any secret and the timestamp is within ``tolerance`` seconds
    of ``now``; raise SignatureError otherwise."""
    msg_id = _header(headers, HEADER_ID)
    timestamp = _parse_timestamp(_header(headers, HEADER_TIMESTAMP))
    offered = _header(headers, HEADER_SIGNATURE).split()
    now = int(time.time()) if now is None else int(now)
    if timestamp < now - tolerance:
        raise SignatureError("timestamp too old")
    if timestamp > now + tolerance:
        raise SignatureError("timestamp too new")
    # Compared as bytes: compare_digest refuses non-ASCII str, and the header comes from the client.
    candidates = [part.encode() for part in offered if part.startswith(SIGNATURE_VERSION)]
    for secret in secrets:
        expected = sign(secret, msg_id, timestamp, body).encode()
        if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
            return
    raise SignatureError("no matching signature")
