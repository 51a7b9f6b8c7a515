"""CloudEvents envelopes (checked with the CloudEvents SDK), JSON Schema errors, conversions."""

from datetime import datetime

import pytest
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from mfg_integration_lib import cloudevents, payload, problem, schema, secretbox, timeconv

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["production_order", "quantity", "occurred_at"],
    "properties": {
        "production_order": {"type": "string"},
        "quantity": {"type": "number", "exclusiveMinimum": 0},
        "occurred_at": {"type": "string", "format": "date-time"},
        "consumed": {"type": "array", "items": {"type": "object", "required": ["material"]}},
    },
}


def test_built_event_is_parsed_by_the_cloudevents_sdk():
    event = cloudevents.build_event(
        event_id="evt-1",
        source="urn:odoo:db",
        event_type="mfg.production_order.released.v1",
        data={"reference": "WH/MO/00012"},
        time=datetime(2026, 11, 22, 10, 0, 0, 123456),
        subject="WH/MO/00012",
        extensions={"correlationid": "c-1", "causationid": None},
    )
    parsed = JSONFormat().read(CloudEvent, cloudevents.to_bytes(event))
    assert parsed.get_id() == "evt-1"
    assert parsed.get_time().isoformat() == "2026-11-22T10:00:00+00:00"
    assert parsed.get_extension("correlationid") == "c-1"
    assert "causationid" not in event
    assert parsed.get_data() == {"reference": "WH/MO/00012"}


def test_extension_names_are_checked():
    with pytest.raises(ValueError):
        cloudevents.build_event(event_id="1", source="s", event_type="t", data={}, time=datetime.now(),
                                extensions={"Correlation-Id": "x"})


def test_envelope_errors_name_every_bad_attribute():
    errors = cloudevents.envelope_errors({"specversion": "0.3", "id": "", "type": "t", "time": "yesterday",
                                          "data": [], "Bad_Name": 1})
    assert [error["path"] for error in errors] == ["/specversion", "/id", "/source", "/time", "/data", "/Bad_Name"]
    assert cloudevents.envelope_errors([]) == [{"path": "", "message": "an event must be a JSON object"}]
    good = {"specversion": "1.0", "id": "1", "source": "mes", "type": "t", "time": "2026-11-22T10:00:00Z", "data": {}}
    assert cloudevents.envelope_errors(good) == []


def test_schema_reports_every_error_with_its_pointer():
    errors = schema.schema_errors(SCHEMA, {"quantity": -1, "occurred_at": "22/11/2026", "consumed": [{}]})
    assert [error["path"] for error in errors] == ["", "/consumed/0", "/occurred_at", "/quantity"]
    with pytest.raises(schema.SchemaViolation) as caught:
        schema.ensure_valid(SCHEMA, {"production_order": "MO1", "quantity": 0, "occurred_at": "2026-11-22T10:00:00Z"},
                            prefix="/data")
    assert caught.value.errors == [{"path": "/data/quantity", "message": "0 is less than or equal to the minimum of 0"}]
    with pytest.raises(schema.SchemaViolation):
        schema.check_schema({"type": 12})


def test_rfc3339_round_trip_to_naive_utc():
    assert timeconv.parse_rfc3339("2026-11-22T11:00:00+01:00") == datetime(2026, 11, 22, 10, 0, 0)
    assert timeconv.to_rfc3339(datetime(2026, 11, 22, 10, 0, 0, 5)) == "2026-11-22T10:00:00Z"
    for bad in ("2026-11-22", "2026-11-22T10:00:00", "tomorrow", 5):
        with pytest.raises(ValueError):
            timeconv.parse_rfc3339(bad)


def test_canonical_json_is_stable_and_refuses_odd_types():
    assert payload.canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'
    assert payload.sha256_hex("{}") == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    with pytest.raises(TypeError, match="datetime"):
        payload.canonical_json({"at": datetime.now()})
    assert payload.excerpt(b"x" * 10, 4) == "xxxx… (truncated, 10 chars)"


def test_problem_details():
    body = problem.problem(422, "Invalid event", "2 errors", slug="schema-violation", errors=[{"path": "/data"}])
    assert body == {"type": "urn:mfg-integration:problem:schema-violation", "title": "Invalid event", "status": 422,
                    "detail": "2 errors", "errors": [{"path": "/data"}]}
    assert problem.problem(404, "Not found")["type"] == "about:blank"


def test_secretbox_round_trip_and_key_file(tmp_path):
    key_path = tmp_path / "k.key"
    key = secretbox.load_or_create_key(str(key_path))
    assert secretbox.load_or_create_key(str(key_path)) == key
    assert oct(key_path.stat().st_mode & 0o777) == "0o600"
    box = secretbox.SecretBox(key)
    token = box.encrypt("whsec_abc")
    assert "whsec_abc" not in token and box.decrypt(token) == "whsec_abc"
    with pytest.raises(ValueError, match="cannot decrypt"):
        secretbox.SecretBox(secretbox.generate_key()).decrypt(token)
