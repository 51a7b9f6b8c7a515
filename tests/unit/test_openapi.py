"""The OpenAPI 3.1 document of the inbound API, checked with openapi-spec-validator."""

from mfg_integration_lib import openapi
from openapi_spec_validator import validate

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://example.com/x.json",
    "type": "object",
    "required": ["item"],
    "properties": {"item": {"$ref": "#/$defs/item"}},
    "$defs": {"item": {"type": "string", "minLength": 1}},
}


def test_document_is_valid_openapi_31_and_embeds_each_schema():
    document = openapi.build_document(
        [
            {"code": "mfg.thing.reported.v1", "name": "Thing", "description": "A thing", "schema": SCHEMA},
            {"code": "mfg.other.reported.v2", "name": "Other", "description": None, "schema": {"type": "object"}},
        ],
        server_url="http://odoo.example.com",
    )
    validate(document)
    schemas = document["components"]["schemas"]
    data = schemas["data.mfg.thing.reported.v1"]
    assert "$id" not in data
    assert data["properties"]["item"]["$ref"] == "#/components/schemas/data.mfg.thing.reported.v1/$defs/item"
    assert data["description"] == "A thing"
    variants = schemas["CloudEvent"]["oneOf"]
    assert {v["$ref"] for v in variants} == {
        "#/components/schemas/event.mfg.thing.reported.v1",
        "#/components/schemas/event.mfg.other.reported.v2",
    }
    envelope = schemas["event.mfg.thing.reported.v1"]
    assert envelope["properties"]["type"] == {"type": "string", "const": "mfg.thing.reported.v1"}
    assert set(envelope["required"]) == {"specversion", "id", "source", "type", "time", "data"}
    paths = document["paths"]
    assert set(paths) == {
        "/api/mfg/v1/events",
        "/api/mfg/v1/events/batch",
        "/api/mfg/v1/messages/{message_id}",
        "/api/mfg/v1/openapi.json",
        "/api/mfg/v1/schemas/{event_type}.json",
    }
    assert paths["/api/mfg/v1/schemas/{event_type}.json"]["get"]["security"] == []
    assert paths["/api/mfg/v1/openapi.json"]["get"]["security"] == []
    assert (
        paths["/api/mfg/v1/events/batch"]["post"]["requestBody"]["content"]["application/json"]["schema"]["maxItems"]
        == 500
    )
    assert SCHEMA["$id"] == "https://example.com/x.json", "the input is not modified"


def test_document_without_inbound_types_is_valid():
    document = openapi.build_document([])
    validate(document)
    assert document["components"]["schemas"]["CloudEvent"]["type"] == "object"


OUTBOUND = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "product": {"type": "string", "x-mfg-code": "product"},
        "product_odoo_code": {"type": "string"},
    },
}


def test_outbound_types_are_published_as_webhooks_with_their_absolute_dataschema():
    url = "https://odoo.example.com/api/mfg/v1/schemas/mfg.thing.released.v1.json"
    document = openapi.build_document(
        [{"code": "mfg.thing.reported.v1", "name": "Thing", "description": None, "schema": SCHEMA}],
        outbound_types=[
            {
                "code": "mfg.thing.released.v1",
                "name": "Released",
                "description": "Out",
                "schema": OUTBOUND,
                "dataschema": url,
            },
        ],
    )
    validate(document)
    webhook = document["webhooks"]["mfg.thing.released.v1"]["post"]
    envelope_ref = webhook["requestBody"]["content"]["application/cloudevents+json"]["schema"]["$ref"]
    assert envelope_ref == "#/components/schemas/event.mfg.thing.released.v1"
    envelope = document["components"]["schemas"]["event.mfg.thing.released.v1"]
    assert envelope["properties"]["dataschema"] == {"type": "string", "format": "uri", "const": url}
    assert envelope["properties"]["data"] == {"$ref": "#/components/schemas/data.mfg.thing.released.v1"}
    data = document["components"]["schemas"]["data.mfg.thing.released.v1"]
    assert data["properties"]["product"]["x-mfg-code"] == "product"
    assert {p["name"] for p in webhook["parameters"]} == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert set(webhook["responses"]) == {"2XX", "default"}
    variants = {v["$ref"] for v in document["components"]["schemas"]["CloudEvent"]["oneOf"]}
    assert variants == {"#/components/schemas/event.mfg.thing.reported.v1"}, "webhooks are not inbound events"


def test_resync_routes_list_their_items_as_the_released_data():
    released = {"code": "mfg.thing.released.v1", "name": "Released", "schema": SCHEMA, "dataschema": "https://x/s.json"}
    document = openapi.build_document(
        [],
        outbound_types=[released],
        resync=[{"path": "things", "event_type": released["code"], "summary": "Open things"}],
    )
    validate(document)
    operation = document["paths"]["/api/mfg/v1/things"]["get"]
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert page["properties"]["items"]["items"] == {"$ref": "#/components/schemas/data.mfg.thing.released.v1"}
    assert "data.mfg.thing.released.v1" in document["components"]["schemas"]
    assert {p["name"] for p in operation["parameters"]} == {"state", "limit", "after"}
    assert set(operation["responses"]) == {"200", "400", "401", "403", "405", "429"}
