"""Fuzz the inbound API from its own OpenAPI document against a real server (bounded cases)."""

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from .test_api_blackbox import SETUP

API = "/api/mfg/v1"
MAX_EXAMPLES = 30  # per operation


@pytest.fixture(scope="session")
def fuzz_key(odoo_server):
    # No rate limit for this system: the fuzzer would otherwise mostly see 429s.
    out = odoo_server.odoo_shell(SETUP + "\nsystem.rate_limit_per_minute = 0\n")
    line = next(line for line in out.splitlines() if line.startswith("RESULT"))
    return json.loads(line[len("RESULT") :])["key"]


@pytest.fixture
def api_schema(odoo_server):
    return schemathesis.openapi.from_url(odoo_server.url(f"{API}/openapi.json"))


schema = schemathesis.pytest.from_fixture("api_schema")


def header(response, name):
    """A response header (schemathesis responses keep lower-cased names and lists of values)."""
    values = {key.lower(): value for key, value in response.headers.items()}.get(name.lower(), "")
    return values[0] if isinstance(values, list) else values


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_fuzz(case, fuzz_key, odoo_server):
    response = case.call(base_url=odoo_server.base_url, headers={"Authorization": f"Bearer {fuzz_key}"}, timeout=60)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text}"
    if 400 <= response.status_code < 500:
        content_type = header(response, "Content-Type")
        assert content_type.split(";")[0] == "application/problem+json", (
            f"{case.method} {case.formatted_path}: {response.status_code} with {content_type}: {response.text[:300]}"
        )
        body = response.json()
        assert body["status"] == response.status_code
        assert body["title"]
