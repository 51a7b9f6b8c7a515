"""The REST API's answer for an inbox result: HTTP status, headers and JSON body.

The one place that maps the inbox's transport-neutral kinds (``lib/inbox.py``) to HTTP; the
controllers call it for every answer they build from a result, replays of stored outcomes included.
"""

from . import inbox, problem

STATUS = {
    inbox.PROCESSED: 200,
    inbox.ACCEPTED: 202,
    inbox.WAITING: 424,
    inbox.IN_PROGRESS: 409,
    inbox.REFUSED: 422,
    inbox.FORBIDDEN: 403,
    inbox.UNAVAILABLE: 503,
    inbox.FAILED: 500,
    inbox.RATE_LIMITED: 429,
    inbox.UNAUTHENTICATED: 401,
    inbox.TOO_LARGE: 413,
    inbox.MALFORMED: 400,
    inbox.UNSUPPORTED_MEDIA_TYPE: 415,
    inbox.NOT_FOUND: 404,
    inbox.METHOD_NOT_ALLOWED: 405,
}


def status_of(kind):
    """The HTTP status of a kind, or None for no kind (a message never applied)."""
    return STATUS[kind] if kind else None


def http_answer(result):
    """(status, headers, body) of ``result``; a problem body gets the RFC 9457 ``status`` member."""
    status = STATUS[result.kind]
    body = result.body
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    if status >= 400:
        headers["Content-Type"] = problem.CONTENT_TYPE
        body = problem.with_status(body, status)
    if result.retry_after is not None:
        headers["Retry-After"] = str(result.retry_after)
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return status, headers, body
