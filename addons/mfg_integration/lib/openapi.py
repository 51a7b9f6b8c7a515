"""OpenAPI 3.1 document of the inbound REST API, built from the event catalog.

Pure python: ``build_document(event_types)`` takes the inbound event types as
``[{"code", "name", "description", "schema"}]`` (``schema`` a parsed JSON Schema)
and returns the document as a dict.
"""

import copy
import re

BASE_PATH = "/api/mfg/v1"
PROBLEM_CONTENT_TYPE = "application/problem+json"
MAX_BATCH = 500
_COMPONENT_NAME = re.compile(r"[^A-Za-z0-9._-]")


def component_name(code):
    """A components/schemas key for an event type code."""
    return "data." + _COMPONENT_NAME.sub("_", code)


def _relocate_refs(node, base):
    """Point a schema's local references (``#/$defs/x``) at its place in the document."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#"):
                out[key] = base + value[1:]
            else:
                out[key] = _relocate_refs(value, base)
        return out
    if isinstance(node, list):
        return [_relocate_refs(item, base) for item in node]
    return node


def _data_schema(code, schema):
    schema = copy.deepcopy(schema) if isinstance(schema, dict) else {}
    # $id would rebase the relative references of the embedded schema.
    schema.pop("$id", None)
    return _relocate_refs(schema, f"#/components/schemas/{component_name(code)}")


def _problem_response(description):
    return {
        "description": description,
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _envelope(code=None, data_ref=None):
    properties = {
        "specversion": {"type": "string", "const": "1.0"},
        "id": {"type": "string", "minLength": 1, "maxLength": 256},
        "source": {"type": "string", "minLength": 1},
        "type": {"type": "string", "const": code} if code else {"type": "string"},
        "time": {"type": "string", "format": "date-time"},
        "subject": {"type": "string"},
        "datacontenttype": {"type": "string"},
        "dataschema": {"type": "string"},
        "correlationid": {"type": "string"},
        "causationid": {"type": "string"},
        "data": {"$ref": data_ref} if data_ref else {"type": "object"},
    }
    return {
        "type": "object",
        "propertyNames": {"pattern": "^[a-z0-9]{1,20}$"},
        "required": ["specversion", "id", "source", "type", "time", "data"],
        "properties": properties,
    }


PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "message_id": {"type": "integer"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "message"],
                "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}

ACCEPTED_SCHEMA = {
    "type": "object",
    "required": ["message_id", "status"],
    "properties": {
        "message_id": {"type": "integer"},
        "status": {"type": "string", "enum": ["processed", "pending"]},
        "result": {"type": "object"},
    },
}

MESSAGE_SCHEMA = {
    "type": "object",
    "required": ["message_id", "event_id", "type", "status"],
    "properties": {
        "message_id": {"type": "integer"},
        "event_id": {"type": "string"},
        "type": {"type": "string"},
        "status": {"type": "string", "enum": ["pending", "in_progress", "processed", "failed", "ignored"]},
        "http_status": {"type": ["integer", "null"]},
        "error": {"type": ["string", "null"]},
        "result": {"type": ["object", "null"]},
        "received_at": {"type": "string", "format": "date-time"},
        "processed_at": {"type": ["string", "null"], "format": "date-time"},
    },
}

BATCH_RESULT_SCHEMA = {
    "type": "object",
    "required": ["results"],
    "properties": {
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["index", "status", "body"],
                "properties": {
                    "index": {"type": "integer"},
                    "id": {"type": ["string", "null"]},
                    "status": {"type": "integer", "description": "HTTP status this event alone would get."},
                    "replayed": {"type": "boolean"},
                    "body": {"type": "object"},
                },
            },
        }
    },
}


def build_document(event_types, server_url=None, title="Manufacturing Integration Hub inbound API", version="1.0.0"):
    """The OpenAPI 3.1 document; ``event_types``: [{code, name, description, schema}]."""
    event_types = sorted(event_types, key=lambda t: t["code"])
    schemas = {
        "Problem": PROBLEM_SCHEMA,
        "Accepted": ACCEPTED_SCHEMA,
        "Message": MESSAGE_SCHEMA,
        "BatchResult": BATCH_RESULT_SCHEMA,
    }
    variants = []
    for event_type in event_types:
        name = component_name(event_type["code"])
        data_schema = _data_schema(event_type["code"], event_type.get("schema"))
        description = event_type.get("description") or event_type.get("name")
        if description:
            data_schema.setdefault("description", description)
        schemas[name] = data_schema
        envelope_name = "event." + name[len("data.") :]
        schemas[envelope_name] = dict(
            _envelope(event_type["code"], f"#/components/schemas/{name}"),
            title=event_type["code"],
        )
        variants.append({"$ref": f"#/components/schemas/{envelope_name}"})
    schemas["CloudEvent"] = (
        {"oneOf": variants, "description": "One CloudEvents 1.0 event (structured JSON mode)."}
        if variants
        else dict(_envelope(), description="One CloudEvents 1.0 event (structured JSON mode).")
    )

    event_content = {
        "application/cloudevents+json": {"schema": {"$ref": "#/components/schemas/CloudEvent"}},
        "application/json": {"schema": {"$ref": "#/components/schemas/CloudEvent"}},
    }
    batch_schema = {
        "type": "array",
        "maxItems": MAX_BATCH,
        "items": {"$ref": "#/components/schemas/CloudEvent"},
    }
    common_errors = {
        "400": _problem_response("Malformed JSON."),
        "401": _problem_response("Missing or invalid API key, or bad webhook signature."),
        "403": _problem_response("The key's user is not linked to a system, or the type is not allowed."),
        "413": _problem_response("Body larger than the system's limit."),
        "415": _problem_response("Unsupported content type."),
        "422": _problem_response("Invalid event, unknown type, schema violation or business failure."),
        "429": {
            "description": "Rate limit exceeded.",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        },
        "500": _problem_response("Unexpected failure while applying the event (kept in the inbox)."),
    }
    header_params = [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "Overrides the event id as idempotency key within the sending system.",
            "schema": {"type": "string", "maxLength": 200},
        },
        {
            "name": "Prefer",
            "in": "header",
            "required": False,
            "description": "`respond-async`: store the event and answer 202; a job applies it.",
            "schema": {"type": "string"},
        },
    ]
    event_responses = {
        "200": {
            "description": "Applied.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Accepted"}}},
        },
        "202": {
            "description": "Stored; applied asynchronously.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Accepted"}}},
        },
        "409": _problem_response("The same idempotency key is being applied by another request."),
        **common_errors,
    }
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": (
                "Inbound REST API of the Manufacturing Integration Hub. External systems send "
                "CloudEvents 1.0 events authenticated with an integration API key (Bearer). Errors are "
                "RFC 9457 problem details."
            ),
        },
        "servers": [{"url": server_url or ""}],
        "security": [{"bearer": []}],
        "paths": {
            f"{BASE_PATH}/events": {
                "post": {
                    "operationId": "postEvent",
                    "summary": "Send one event",
                    "parameters": header_params,
                    "requestBody": {"required": True, "content": event_content},
                    "responses": event_responses,
                }
            },
            f"{BASE_PATH}/events/batch": {
                "post": {
                    "operationId": "postEventBatch",
                    "summary": f"Send up to {MAX_BATCH} events, applied in order",
                    "parameters": header_params[1:],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/cloudevents-batch+json": {"schema": batch_schema},
                            "application/json": {"schema": batch_schema},
                        },
                    },
                    "responses": {
                        "207": {
                            "description": "One result per event, in order.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchResult"}}},
                        },
                        **common_errors,
                    },
                }
            },
            f"{BASE_PATH}/messages/{{message_id}}": {
                "get": {
                    "operationId": "getMessage",
                    "summary": "Status, error and result of a message the caller's system sent",
                    "parameters": [
                        {"name": "message_id", "in": "path", "required": True, "schema": {"type": "integer"}}
                    ],
                    "responses": {
                        "200": {
                            "description": "The message.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}},
                        },
                        "401": common_errors["401"],
                        "403": common_errors["403"],
                        "404": _problem_response("No such message of the caller's system."),
                        "429": common_errors["429"],
                    },
                }
            },
            f"{BASE_PATH}/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1 document.", "content": {"application/json": {}}}},
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key of scope mfg_integration of the system's technical user (New API Key).",
                }
            },
            "schemas": schemas,
        },
    }
    return document
