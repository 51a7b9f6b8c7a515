"""The inbox's transport-neutral results and the one function answering them over HTTP."""

import pytest
from mfg_integration_lib import http_answer, inbox, problem


def test_every_kind_has_one_http_status():
    kinds = {value for name, value in vars(inbox).items() if name.isupper() and isinstance(value, str)}
    assert kinds == set(http_answer.STATUS)
    assert http_answer.status_of(None) is None


@pytest.mark.parametrize(
    ("result", "status"),
    [
        (inbox.processed(7, {"records": []}), 200),
        (inbox.accepted(7), 202),
    ],
)
def test_success_is_plain_json_without_problem_members(result, status):
    answer_status, headers, body = http_answer.http_answer(result)
    assert answer_status == status
    assert headers == {"Content-Type": "application/json", "Cache-Control": "no-store"}
    assert body == result.body
    assert result.ok


def test_refusal_is_problem_json_with_status_after_title():
    result = inbox.refusal(
        inbox.REFUSED,
        "Event cannot be applied",
        "unknown article NOPE-9",
        slug="business-error",
        errors=[{"path": "/data/product", "message": "unknown"}],
        message_id=12,
    )
    assert "status" not in result.body, "the inbox's document names no transport status"
    assert result.message_id == 12 and not result.ok
    status, headers, body = http_answer.http_answer(result)
    assert status == 422
    assert headers["Content-Type"] == problem.CONTENT_TYPE
    assert list(body) == ["type", "title", "status", "detail", "errors", "message_id"]
    assert body["status"] == 422 and body["type"] == "urn:mfg-integration:problem:business-error"


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (inbox.WAITING, 424),
        (inbox.IN_PROGRESS, 409),
        (inbox.FORBIDDEN, 403),
        (inbox.UNAVAILABLE, 503),
        (inbox.RATE_LIMITED, 429),
        (inbox.UNAUTHENTICATED, 401),
        (inbox.TOO_LARGE, 413),
        (inbox.MALFORMED, 400),
        (inbox.UNSUPPORTED_MEDIA_TYPE, 415),
        (inbox.NOT_FOUND, 404),
        (inbox.METHOD_NOT_ALLOWED, 405),
    ],
)
def test_refusal_statuses(kind, status):
    assert http_answer.http_answer(inbox.refusal(kind, "t", slug="s"))[0] == status


def test_retry_after_and_replay_headers():
    result = inbox.refusal(inbox.WAITING, "Waits", slug="waits-for-earlier-message", waits_for=3, message_id=4)
    result.retry_after, result.replayed = 60, True
    _status, headers, body = http_answer.http_answer(result)
    assert headers["Retry-After"] == "60"
    assert headers["Idempotent-Replayed"] == "true"
    assert body["waits_for"] == 3 and body["message_id"] == 4


def test_a_stored_body_with_its_old_status_member_answers_the_same():
    stored = problem.problem(422, "Event cannot be applied", "x", slug="business-error", message_id=5)
    replay = inbox.InboxResult(inbox.REFUSED, stored, message_id=5, replayed=True)
    assert http_answer.http_answer(replay)[2] == stored


def test_internal_error_names_only_the_incident():
    status, _headers, body = http_answer.http_answer(inbox.internal_error("abc", 9))
    assert status == 500
    assert body == {
        "type": "urn:mfg-integration:problem:internal-error",
        "title": "Internal error",
        "status": 500,
        "detail": "Internal error, incident abc.",
        "incident": "abc",
        "message_id": 9,
    }
