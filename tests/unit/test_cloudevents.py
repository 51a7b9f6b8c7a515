"""CloudEvents structured JSON mode, cross-checked with the CloudEvents Python SDK."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent as CoreCloudEvent
from cloudevents.v1.conversion import to_dict, to_json
from cloudevents.v1.http import CloudEvent, from_json
from mfg_integration_lib import cloudevents, payload

WHEN = datetime(2026, 11, 22, 10, 0, 0, 123456)


def _event(**overrides):
    arguments = {
        "event_id": "evt-1",
        "source": "urn:odoo:db:prod",
        "event_type": "mfg.production_order.released.v1",
        "data": {"reference": "WH/MO/00012", "quantity": 5.0, "product": "Caf\u00e9 \u2713"},
        "time": WHEN,
        "subject": "WH/MO/00012",
        "dataschema": "https://odoo.example.com/api/mfg/v1/schemas/mfg.production_order.released.v1.json",
        "extensions": {"correlationid": "c-1", "causationid": None},
    }
    return cloudevents.build_event(**{**arguments, **overrides})


def test_build_event_exact_attributes_and_order():
    event = _event()
    assert event == {
        "specversion": "1.0",
        "id": "evt-1",
        "source": "urn:odoo:db:prod",
        "type": "mfg.production_order.released.v1",
        "subject": "WH/MO/00012",
        "time": "2026-11-22T10:00:00Z",
        "datacontenttype": "application/json",
        "dataschema": "https://odoo.example.com/api/mfg/v1/schemas/mfg.production_order.released.v1.json",
        "correlationid": "c-1",
        "data": {"reference": "WH/MO/00012", "quantity": 5.0, "product": "Caf\u00e9 \u2713"},
    }
    assert list(event)[:4] == ["specversion", "id", "source", "type"] and list(event)[-1] == "data"


@pytest.mark.parametrize("causation_id", [None, "evt-0"])
def test_envelope_body_is_the_serialized_event_with_the_stored_payload_as_is(causation_id):
    data = {"reference": "WH/MO/00012", "quantity": 5.0, "product": "Caf\u00e9 \u2713", "lines": [{"a": 1}]}
    envelope = cloudevents.Envelope("urn:odoo:db:prod", "mfg.production_order.released.v1", "https://x/s.json")
    stored = payload.canonical_json(data)
    body = envelope.body("evt-1", stored, WHEN, "WH/MO/00012", "c-1", causation_id)
    # What the dispatcher built before: the stored payload parsed, then the whole event serialized.
    expected = cloudevents.build_event(
        event_id="evt-1", source="urn:odoo:db:prod", event_type="mfg.production_order.released.v1",
        data=json.loads(stored), time=WHEN, subject="WH/MO/00012", dataschema="https://x/s.json",
        extensions={"correlationid": "c-1", "causationid": causation_id},
    )  # fmt: skip
    assert body == cloudevents.to_bytes(expected)
    assert json.loads(body)["data"] == data


def test_optional_attributes_are_omitted_when_none():
    event = cloudevents.build_event(event_id="1", source="s", event_type="t", data={}, time=WHEN)
    assert event == {
        "specversion": "1.0",
        "id": "1",
        "source": "s",
        "type": "t",
        "time": "2026-11-22T10:00:00Z",
        "datacontenttype": "application/json",
        "data": {},
    }


def test_aware_time_is_converted_to_utc():
    event = _event(time=datetime(2026, 11, 22, 11, 0, tzinfo=timezone(timedelta(hours=1))))
    assert event["time"] == "2026-11-22T10:00:00Z"


@pytest.mark.parametrize("name", ["Correlationid", "correlation-id", "correlation_id", "", "a" * 21, "caf\u00e9"])
def test_invalid_extension_names_are_refused(name):
    with pytest.raises(ValueError, match="invalid CloudEvents extension attribute name"):
        _event(extensions={name: "x"})


@pytest.mark.parametrize("name", ["id", "type", "source", "time", "data", "subject", "specversion", "dataschema"])
def test_extensions_cannot_shadow_core_attributes(name):
    with pytest.raises(ValueError, match="shadow a core"):
        _event(extensions={name: "x"})


def test_longest_extension_name_is_accepted():
    assert _event(extensions={"a" * 20: 1, "x9": True})["a" * 20] == 1


def test_to_bytes_is_compact_utf8_in_the_event_order():
    body = cloudevents.to_bytes({"specversion": "1.0", "data": {"b": "\u00e9", "a": 1}})
    assert body == '{"specversion":"1.0","data":{"b":"\u00e9","a":1}}'.encode()
    assert cloudevents.to_bytes(_event()) == cloudevents.to_bytes(_event()), "same event, same signed bytes"


def test_to_bytes_refuses_values_that_are_not_json():
    with pytest.raises(TypeError, match="datetime"):
        cloudevents.to_bytes(_event(data={"at": WHEN}))
    with pytest.raises(ValueError):
        cloudevents.to_bytes(_event(data={"quantity": float("nan")}))


def test_the_v1_sdk_reads_every_attribute_and_the_data():
    event = _event()
    parsed = from_json(cloudevents.to_bytes(event))
    assert to_dict(parsed) == event
    assert parsed.get_attributes()["datacontenttype"] == "application/json"


def test_the_core_sdk_parses_the_event():
    parsed = JSONFormat().read(CoreCloudEvent, cloudevents.to_bytes(_event()))
    assert parsed.get_id() == "evt-1"
    assert parsed.get_type() == "mfg.production_order.released.v1"
    assert parsed.get_time() == datetime(2026, 11, 22, 10, 0, 0, tzinfo=timezone.utc)
    assert parsed.get_extension("correlationid") == "c-1"
    assert parsed.get_data() == _event()["data"]


def test_an_sdk_built_event_passes_our_envelope_check():
    sdk_event = CloudEvent(
        {"type": "mfg.thing.v1", "source": "urn:mes:line-1", "subject": "L1", "traceid": "t1"}, {"quantity": 1}
    )
    assert cloudevents.envelope_errors(json.loads(to_json(sdk_event))) == []


VALID = {"specversion": "1.0", "id": "1", "source": "mes", "type": "t", "time": "2026-11-22T10:00:00Z", "data": {}}


def test_a_minimal_valid_event_and_our_own_events_pass():
    assert cloudevents.envelope_errors(VALID) == []
    assert cloudevents.envelope_errors({key: value for key, value in VALID.items() if key != "time"}) == []
    assert cloudevents.envelope_errors(json.loads(cloudevents.to_bytes(_event()))) == []


@pytest.mark.parametrize("obj", [[], "event", None, 1, True])
def test_envelope_must_be_an_object(obj):
    assert cloudevents.envelope_errors(obj) == [{"path": "", "message": "an event must be a JSON object"}]


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"specversion": "0.3"}, "/specversion", "'specversion' must be \"1.0\""),
        ({"specversion": 1.0}, "/specversion", "'specversion' must be \"1.0\""),
        ({"specversion": None}, "/specversion", "'specversion' must be \"1.0\""),
        ({"id": ""}, "/id", "'id' is required and must be a non-empty string"),
        ({"id": 12}, "/id", "'id' is required and must be a non-empty string"),
        ({"id": "x" * 257}, "/id", "'id' is longer than 256 characters"),
        ({"source": None}, "/source", "'source' is required and must be a non-empty string"),
        ({"type": ["t"]}, "/type", "'type' is required and must be a non-empty string"),
        ({"subject": 5}, "/subject", "'subject' must be a string"),
        ({"data": []}, "/data", "'data' is required and must be a JSON object"),
        ({"data": None}, "/data", "'data' is required and must be a JSON object"),
        ({"Bad_Name": 1}, "/Bad_Name", "extension attribute names are 1-20 lowercase letters and digits"),
        ({"a/b~c": 1}, "/a~1b~0c", "extension attribute names are 1-20 lowercase letters and digits"),
        ({"a" * 21: 1}, "/" + "a" * 21, "extension attribute names are 1-20 lowercase letters and digits"),
    ],
)
def test_envelope_errors_one_rule_at_a_time(changes, path, message):
    assert cloudevents.envelope_errors({**VALID, **changes}) == [{"path": path, "message": message}]


def test_id_of_256_characters_is_accepted():
    assert cloudevents.envelope_errors({**VALID, "id": "x" * 256}) == []


@pytest.mark.parametrize("time", ["2026-11-22", "2026-11-22T10:00:00", "yesterday", 1_700_000_000, None])
def test_envelope_time_must_be_rfc3339(time):
    errors = cloudevents.envelope_errors({**VALID, "time": time})
    assert [error["path"] for error in errors] == ["/time"]
    assert "RFC 3339" in errors[0]["message"]


def test_missing_data_and_binary_data_are_refused():
    without_data = {key: value for key, value in VALID.items() if key != "data"}
    assert [error["path"] for error in cloudevents.envelope_errors(without_data)] == ["/data"]
    binary = {**without_data, "data_base64": "AAEC"}
    assert [error["path"] for error in cloudevents.envelope_errors(binary)] == ["/data"]


def test_envelope_errors_lists_every_problem_at_once():
    errors = cloudevents.envelope_errors(
        {"specversion": "0.3", "id": "", "type": "t", "time": "yesterday", "data": [], "Bad_Name": 1}
    )
    assert [error["path"] for error in errors] == ["/specversion", "/id", "/source", "/time", "/data", "/Bad_Name"]


def test_content_type():
    assert cloudevents.CONTENT_TYPE == "application/cloudevents+json"
