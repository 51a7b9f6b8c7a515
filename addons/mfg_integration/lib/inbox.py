"""What the inbox answers for one received event, whatever carried it (HTTP, MQTT, AMQP).

The inbox (``mfg.integration.message._inbound_receive``) returns an ``InboxResult``: a *kind*
saying what happened to the event and what the sender should do, the stored message's id and
a JSON ``body`` (for a refusal, an RFC 9457 problem document without the transport's status).
Each transport turns it into its own answer: the REST controller with ``lib/http_answer.py``.
"""

from dataclasses import dataclass
from typing import Any

from . import problem

# Success: the event was applied (PROCESSED) or stored to be applied later (ACCEPTED).
PROCESSED = "processed"
ACCEPTED = "accepted"
# Stored, applied after an earlier message about the same subject.
WAITING = "waiting"
# Another request is applying this very event: send it again a moment later.
IN_PROGRESS = "in_progress"
# The event itself cannot be applied (invalid, unknown type, schema, key reused, business error):
# sending it again changes nothing.
REFUSED = "refused"
# The sender may not do this (event type not allowed, missing access right).
FORBIDDEN = "forbidden"
# The hub cannot apply the event now (configuration): sending it again later applies it.
UNAVAILABLE = "unavailable"
# Something broke; the body names the incident logged beside the traceback.
FAILED = "failed"
# Refusals decided by the transport before the inbox sees the event.
RATE_LIMITED = "rate_limited"
UNAUTHENTICATED = "unauthenticated"
TOO_LARGE = "too_large"
MALFORMED = "malformed"
UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
NOT_FOUND = "not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"

SUCCESS_KINDS = frozenset({PROCESSED, ACCEPTED})
# Stored outcomes a re-post answers again as they are: the event was applied, or refused for a
# reason in the event itself. After any other failure (missing right, configuration, crash) the
# event is applied again when re-posted.
FINAL_KINDS = frozenset({PROCESSED, REFUSED})
# The kinds a message keeps as its current outcome (the ``result_kind`` selection).
STORED_KINDS = (PROCESSED, ACCEPTED, WAITING, REFUSED, FORBIDDEN, UNAVAILABLE, FAILED)


@dataclass
class InboxResult:
    """One event's result: ``kind``, ``body`` (JSON object), ``message_id`` (None when refused
    before being stored), ``retry_after`` (seconds, when the sender should try again later)."""

    kind: str
    body: dict
    message_id: int | None = None
    retry_after: int | None = None
    replayed: bool = False
    # For support (the message's last error) when the answer must not say it (missing right, crash).
    internal_detail: str | None = None
    # Name of the technical user the event was applied as (for the chatter).
    applied_as: str | None = None

    @property
    def ok(self) -> bool:
        return self.kind in SUCCESS_KINDS


def refusal(
    kind: str,
    title: str,
    detail: str | None = None,
    *,
    slug: str,
    errors: list | None = None,
    retry_after: int | None = None,
    message_id: int | None = None,
    **extensions: Any,
) -> InboxResult:
    """A result whose body is a problem document (``message_id`` is also a member of it when given)."""
    if message_id is not None:
        extensions["message_id"] = message_id
    body = problem.problem(None, title, detail, slug=slug, errors=errors, **extensions)
    return InboxResult(kind, body, message_id=message_id, retry_after=retry_after)


def processed(message_id: int, result: dict) -> InboxResult:
    return InboxResult(PROCESSED, {"message_id": message_id, "status": "processed", "result": result}, message_id)


def accepted(message_id: int) -> InboxResult:
    return InboxResult(ACCEPTED, {"message_id": message_id, "status": "pending"}, message_id)


def internal_error(incident: str, message_id: int | None = None) -> InboxResult:
    """A failure that says nothing but the incident id logged beside the traceback."""
    return refusal(
        FAILED,
        "Internal error",
        f"Internal error, incident {incident}.",
        slug="internal-error",
        incident=incident,
        message_id=message_id,
    )


def together_runs(items, limit):
    """Split ``items`` into consecutive runs to apply together: [(start, end)] covering every item in
    order. An item is ``(kind, subject)``, or None for one applied alone; a run holds items of one
    kind, never one subject twice (two events about one subject stay in order, in different runs),
    at most ``limit`` of them."""
    runs, start, subjects = [], 0, set()
    for index, item in enumerate(items):
        first = items[start]
        if index > start and (
            item is None or first is None or item[0] != first[0] or item[1] in subjects or index - start >= limit
        ):
            runs.append((start, index))
            start, subjects = index, set()
        if item is not None:
            subjects.add(item[1])
    if items:
        runs.append((start, len(items)))
    return runs
