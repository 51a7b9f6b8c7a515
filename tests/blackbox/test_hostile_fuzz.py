"""Hostile-input fuzz stage (issue 9): every inbound type gets events whose values are lone
surrogates, non-finite or huge numbers, deep nesting, LIKE wildcards and over-long strings,
in its data members and in the envelope, single and in batches. No answer may be a 5xx.

Cases: MAX_EXAMPLES per inbound type plus BATCH_EXAMPLES batches (at least 1,000 in total,
counted by test_hostile_case_count)."""

import json

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulators.mfgsim.client import cloud_event

from .test_api_blackbox import API, EVENT_TIME

MAX_EXAMPLES = 80  # per inbound type
BATCH_EXAMPLES = 60
MIN_TOTAL = 1000

SETUP = """
import json, uuid
from datetime import timedelta
from odoo import fields
code = "FZ-" + uuid.uuid4().hex[:8]
types = env["mfg.integration.event.type"].search([("direction", "=", "inbound")])
system = env["mfg.integration.system"].create(
    {"name": code, "code": code, "inbound_event_type_ids": [(6, 0, types.ids)], "rate_limit_per_minute": 0}
)
# Broad rights so that hostile values reach the handlers, not only the access checks.
groups = [env.ref(xmlid, raise_if_not_found=False) for xmlid in (
    "base.group_user", "mfg_integration.group_mfg_integration_manager", "stock.group_stock_user",
    "mrp.group_mrp_user", "purchase.group_purchase_user", "quality_control_oca.group_quality_control_user",
)]
user = env["res.users"].create({
    "name": code + " technical user", "login": code.lower(),
    "groups_id": [(6, 0, [group.id for group in groups if group])],
    "mfg_system_id": system.id,
})
key = env["mfg.integration.api.key.wizard"].create({
    "system_id": system.id, "user_id": user.id, "name": "fuzz",
    "expiration_date": fields.Datetime.now() + timedelta(days=1),
}).action_generate()["context"]["default_key"]  # New API Key on the system form (scope mfg_integration)
print("RESULT" + json.dumps({"key": key, "types": types.mapped("code")}))
"""


class Raw(str):
    """JSON text written as is (json.dumps cannot write 1e999 or 5,000-digit numbers)."""


def to_json(value):
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(key)}:{to_json(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json(item) for item in value) + "]"
    return json.dumps(value)  # ensure_ascii: lone surrogates become \\udXXX escapes


surrogates = st.sampled_from(["\ud800", "\udfff", "lot-\udc00", "\ud83d"]) | st.text(
    alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=4
)
non_finite = st.sampled_from([Raw("1e999"), Raw("-1e999"), Raw("NaN"), Raw("Infinity"), Raw("-Infinity")])
huge_numbers = st.sampled_from([Raw("1e308"), Raw("-1e308"), Raw("1" * 5000), Raw("9" * 4000)]) | st.integers(
    min_value=10**15, max_value=10**60
).map(lambda n: Raw(str(n)))
deep_nesting = st.integers(min_value=33, max_value=2000).map(lambda depth: Raw("[" * depth + "]" * depth))
wildcards = st.sampled_from(["%", "_", "%%", "_ni%", "%-%", "\\", "*", "[%]", "a_b", "%'; --"])
long_strings = st.integers(min_value=300, max_value=60000).map(lambda n: "W" * n)
hostile = st.one_of(surrogates, non_finite, huge_numbers, deep_nesting, wildcards, long_strings)


def plausible(schema):
    """A value of the schema's type, as a normal sender would send."""
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        return {name: plausible(prop) for name, prop in schema.get("properties", {}).items()}
    if kind == "array":
        return [plausible(schema.get("items", {}))]
    if kind in ("number", "integer"):
        return 1
    if kind == "boolean":
        return True
    if schema.get("format") == "date-time":
        return "2024-05-01T10:00:00Z"
    return "FZ-1"


@st.composite
def hostile_data(draw, schema):
    """The schema's plausible data with some members (top level or in lists) made hostile."""

    def spoil(value):
        if isinstance(value, dict):
            return {key: draw(hostile) if draw(st.booleans()) else spoil(item) for key, item in value.items()}
        if isinstance(value, list):
            return [spoil(item) for item in value]
        return value

    data = spoil(plausible(schema))
    if draw(st.integers(0, 4)) == 0:
        data[draw(surrogates | wildcards)] = draw(hostile)  # hostile member name
    return data


@st.composite
def hostile_event(draw, event_type, schema):
    event = cloud_event(event_type, draw(hostile_data(schema)), "urn:mes:fuzz", EVENT_TIME)
    spoiled = draw(st.sampled_from([None, None, None, "id", "source", "subject", "time", "correlationid"]))
    if spoiled:
        event[spoiled] = draw(hostile)
    return event


@pytest.fixture(scope="module")
def fuzz_system(odoo_server):
    out = odoo_server.odoo_shell(SETUP)
    line = next(line for line in out.splitlines() if line.startswith("RESULT"))
    system = json.loads(line[len("RESULT") :])
    document = requests.get(odoo_server.url(f"{API}/openapi.json"), timeout=30).json()
    schemas = document["components"]["schemas"]
    system["schemas"] = {code: schemas[f"data.{code}"] for code in system["types"]}
    return system


def check(response, case):
    assert response.status_code < 500, f"{response.status_code} for {case[:500]}: {response.text[:500]}"
    if response.status_code >= 400:
        assert response.headers["Content-Type"].startswith("application/problem+json"), response.text[:300]
        assert response.json()["status"] == response.status_code


def fuzz_settings(examples):
    return settings(
        max_examples=examples, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None
    )


def test_hostile_case_count(fuzz_system):
    """The stage runs at least MIN_TOTAL cases: one MAX_EXAMPLES run per inbound type plus the batches."""
    assert len(fuzz_system["types"]) * MAX_EXAMPLES + BATCH_EXAMPLES >= MIN_TOTAL


def fuzz_type(http, url, event_type, schema):
    @fuzz_settings(MAX_EXAMPLES)
    @given(event=hostile_event(event_type, schema))
    def run(event):
        body = to_json(event)
        check(http.post(url, data=body.encode(), timeout=120), body)

    run()


def test_hostile_single_events(odoo_server, fuzz_system):
    http = requests.Session()
    http.headers.update({"Authorization": f"Bearer {fuzz_system['key']}", "Content-Type": "application/json"})
    for event_type, schema in fuzz_system["schemas"].items():
        fuzz_type(http, odoo_server.url(f"{API}/events"), event_type, schema)


def test_hostile_batches(odoo_server, fuzz_system):
    http = requests.Session()
    http.headers.update({"Authorization": f"Bearer {fuzz_system['key']}", "Content-Type": "application/json"})
    types = st.sampled_from(sorted(fuzz_system["schemas"]))

    @st.composite
    def batch(draw):
        codes = draw(st.lists(types, min_size=1, max_size=5))
        return [draw(hostile_event(code, fuzz_system["schemas"][code])) for code in codes]

    @fuzz_settings(BATCH_EXAMPLES)
    @given(events=batch())
    def run(events):
        body = to_json(events)
        response = http.post(odoo_server.url(f"{API}/events/batch"), data=body.encode(), timeout=300)
        check(response, body)
        if response.status_code == 207:
            results = response.json()["results"]
            assert len(results) == len(events)
            assert all(result["status"] < 500 for result in results), results

    run()
