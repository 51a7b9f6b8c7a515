"""The CloudEvents AMQP binding and routing key templates (mfg_integration_amqp/lib/binding.py)."""

import importlib.util
import json
import pathlib

import pytest

_PATH = pathlib.Path(__file__).resolve().parents[2] / "addons" / "mfg_integration_amqp" / "lib" / "binding.py"
_SPEC = importlib.util.spec_from_file_location("mfg_integration_amqp_binding", _PATH)
binding = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(binding)

EVENT = {
    "specversion": "1.0",
    "id": "evt-1",
    "source": "urn:odoo:db",
    "type": "mfg.production_order.released.v1",
    "subject": "mrp.production/7",
    "time": "2026-12-02T08:00:00Z",
    "datacontenttype": "application/json",
    "correlationid": "c-9",
    "data": {"reference": "WH/MO/00012", "quantity": 5.0},
}


@pytest.mark.parametrize(
    ("template", "key"),
    [
        ("{type}", "mfg.production_order.released.v1"),
        ("plant.{entity}.{action}", "plant.production_order.released"),
        ("{domain}.{entity}.{version}.{subject}", "mfg.production_order.v1.mrp.production/7"),
        ("static.key", "static.key"),
    ],
)
def test_routing_key_templates(template, key):
    assert binding.template_error(template) is None
    assert binding.routing_key(template, EVENT) == key


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("{plant}.{type}", "unknown placeholder {plant}"),
        ("{type!r}", "no format or conversion"),
        ("{type:>30}", "no format or conversion"),
        ("{type", "malformed"),
        ("{0}", "unknown placeholder {0}"),
        ("", "empty"),
    ],
)
def test_bad_templates_are_refused_with_a_reason(template, why):
    assert why in binding.template_error(template)


def test_a_routing_key_longer_than_amqp_allows_is_refused():
    with pytest.raises(ValueError, match="255 bytes"):
        binding.routing_key("{subject}", dict(EVENT, subject="é" * 200))


def test_structured_mode_keeps_the_stored_bytes():
    body = json.dumps(EVENT).encode()
    assert binding.encode(EVENT, body, binding.STRUCTURED) == (binding.STRUCTURED_CONTENT_TYPE, {}, body)
    assert binding.attributes({}) is None  # the consumer reads the envelope from the body


def test_binary_mode_round_trip():
    content_type, headers, body = binding.encode(EVENT, b"", binding.BINARY)
    assert content_type == "application/json"
    assert headers["cloudEvents:id"] == "evt-1"
    assert headers["cloudEvents:correlationid"] == "c-9"
    assert "cloudEvents:data" not in headers
    assert json.loads(body) == EVENT["data"]
    # Brokers may hand header values back as bytes; other headers are not attributes.
    wire_headers = {name: value.encode() for name, value in headers.items()} | {"x-trace": "t"}
    attributes = binding.attributes(wire_headers)
    assert attributes | {"data": json.loads(body), "datacontenttype": content_type} == EVENT
