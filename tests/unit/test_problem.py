import json

import pytest
from mfg_integration_lib import problem


def test_problem_with_slug_and_errors():
    body = problem.problem(
        422,
        "Invalid event",
        "2 errors",
        slug="schema-violation",
        errors=[{"path": "/data/quantity", "message": "must be > 0"}],
    )
    assert body == {
        "type": "urn:mfg-integration:problem:schema-violation",
        "title": "Invalid event",
        "status": 422,
        "detail": "2 errors",
        "errors": [{"path": "/data/quantity", "message": "must be > 0"}],
    }


def test_problem_without_slug_is_about_blank_and_omits_none_values():
    assert problem.problem(404, "Not found") == {"type": "about:blank", "title": "Not found", "status": 404}


def test_problem_extensions_and_instance():
    body = problem.problem(
        429, "Too many requests", slug="rate-limited", instance="/api/mfg/v1/events", retry_after=18, ignored=None
    )
    assert body == {
        "type": "urn:mfg-integration:problem:rate-limited",
        "title": "Too many requests",
        "status": 429,
        "instance": "/api/mfg/v1/events",
        "retry_after": 18,
    }
    assert json.loads(json.dumps(body)) == body
    assert problem.CONTENT_TYPE == "application/problem+json"


def test_an_extension_cannot_override_the_type():
    with pytest.raises(TypeError, match="slug"):
        problem.problem(400, "Bad", type="https://example.com/x")
