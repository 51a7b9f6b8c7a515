"""Broker consumers: what a broker addon implements to feed the inbox, and the pure parts of the runner.

A ``Consumer`` (one per subscribing system, built by ``mfg.integration.system._mfg_broker_consumers``)
connects to its broker, receives, hands each message's bytes to ``store`` and acknowledges the
message to the broker only AFTER ``store`` returned: a crash between receive and store leaves the
message unacknowledged, so the broker delivers it again (the inbox's idempotency by CloudEvents id
applies it once). No ORM here: the runner (``mfg.integration.broker.consumer``) provides ``store``.
"""

import zlib
from dataclasses import dataclass

from . import payload, problem

# First half of the two-integer PostgreSQL advisory lock key of a consumer (the second half is the
# CRC-32 of its key): keeps our locks apart from other modules' advisory locks.
LOCK_NAMESPACE = 0x4D464743  # "MFGC"
# The CloudEvents attributes a binary-mode message carries in its headers (MQTT 5 user properties,
# AMQP headers); the body is then the event's data.
BINARY_ATTRIBUTES = (
    "specversion", "id", "source", "type", "time", "subject", "datacontenttype", "dataschema",
    "correlationid", "causationid",
)  # fmt: skip


class Consumer:
    """One long-running subscription of one system to its broker.

    Subclasses set ``transport`` (a label for monitoring: "mqtt", "amqp") and implement ``run``.
    The runner reads ``connected`` and ``last_error`` (set by ``run``) for monitoring.
    """

    transport = ""

    def __init__(self, key, system_id):
        self.key = key  # unique in the database, e.g. "mqtt:<system id>"
        self.system_id = system_id
        self.connected = False
        self.last_error = ""

    def run(self, store, should_stop):
        """Connect, receive, ``store(raw_bytes, attributes=None) -> result`` per message, then
        acknowledge it; a refused result (``result.message_id is None``, ``result.body`` an RFC 9457
        problem) goes to the transport's dead letter before it is acknowledged. Return when
        ``should_stop()`` is true or the connection fails (the runner starts it again); an
        exception raised by ``store`` (database unreachable) must leave the message unacknowledged."""
        raise NotImplementedError


@dataclass
class Refusal:
    """A message refused before reaching the inbox (not JSON, too large): never stored."""

    body: dict
    kind: str = "malformed"  # an inbox result kind (lib/inbox.py)
    message_id: int | None = None


def lock_key(consumer_key):
    """The (namespace, id) pair of the PostgreSQL advisory lock that keeps one runner per consumer."""
    crc = zlib.crc32(consumer_key.encode())
    return LOCK_NAMESPACE, crc - (1 << 32) if crc >= 1 << 31 else crc


def decode_event(raw, attributes=None, max_bytes=1024 * 1024):
    """(CloudEvent dict, None) or (None, Refusal) from a broker message.

    Structured mode (``attributes`` None): the body is the JSON CloudEvent. Binary mode: the
    CloudEvents attributes come from the message's headers (``attributes``, names without prefix)
    and the body is the JSON ``data``. The envelope itself is checked later by the inbox, like an
    event posted to the REST API."""
    if len(raw) > max_bytes:
        return None, Refusal(
            problem.problem(None, "Body too large", f"The message exceeds {max_bytes} bytes.", slug="body-too-large"),
            kind="too_large",
        )
    try:
        body = payload.parse_json(raw)
    except (ValueError, RecursionError) as error:
        return None, Refusal(
            problem.problem(None, "Malformed JSON", f"The message is not valid JSON: {error}", slug="malformed-json")
        )
    if attributes is None:
        return body, None
    event = {name: value for name, value in attributes.items() if name in BINARY_ATTRIBUTES}
    event["data"] = body
    return event, None


def is_refused(result):
    """True when ``store`` refused the message: it is not in the inbox and must go to the dead letter."""
    return result.message_id is None
