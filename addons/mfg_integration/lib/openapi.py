"""OpenAPI 3.1 document of the REST API and of the webhooks, built from the event catalog.

Pure python: ``build_document(event_types, outbound_types=...)`` takes the inbound event
types as ``[{"code", "name", "description", "schema"}]`` (``schema`` a parsed JSON Schema)
and the outbound ones with their ``dataschema`` URL, and returns the document as a dict:
inbound types under ``paths``, outbound types under ``webhooks``.
"""

import copy
import re

BASE_PATH = "/api/mfg/v1"
PROBLEM_CONTENT_TYPE = "application/problem+json"
SCHEMA_CONTENT_TYPE = "application/schema+json"
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


def _envelope(code=None, data_ref=None, dataschema=None):
    properties = {
        "specversion": {"type": "string", "const": "1.0"},
        "id": {"type": "string", "minLength": 1, "maxLength": 256},
        "source": {"type": "string", "minLength": 1},
        "type": {"type": "string", "const": code} if code else {"type": "string"},
        "time": {"type": "string", "format": "date-time"},
        "subject": {"type": "string"},
        "datacontenttype": {"type": "string"},
        "dataschema": ({"type": "string", "format": "uri", "const": dataschema} if dataschema else {"type": "string"}),
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
        "status": {"type": "string", "enum": ["pending", "in_progress", "waiting", "processed", "failed", "ignored"]},
        "waits_for": {"type": ["integer", "null"], "description": "While waiting: the earlier message it waits for."},
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


WEBHOOK_HEADERS = [
    {
        "name": "webhook-id",
        "in": "header",
        "required": True,
        "description": "Standard Webhooks message id (the CloudEvents id): the same on every retry.",
        "schema": {"type": "string"},
    },
    {
        "name": "webhook-timestamp",
        "in": "header",
        "required": True,
        "description": "Unix time of the signature.",
        "schema": {"type": "string"},
    },
    {
        "name": "webhook-signature",
        "in": "header",
        "required": True,
        "description": "Standard Webhooks signature(s), `v1,<base64 HMAC-SHA256>` of `id.timestamp.body`.",
        "schema": {"type": "string"},
    },
]


def _add_components(schemas, event_type):
    """Put the type's data schema and CloudEvents envelope in ``schemas``; the envelope's name."""
    code = event_type["code"]
    name = component_name(code)
    data_schema = _data_schema(code, event_type.get("schema"))
    description = event_type.get("description") or event_type.get("name")
    if description:
        data_schema.setdefault("description", description)
    schemas[name] = data_schema
    envelope_name = "event." + name[len("data.") :]
    schemas[envelope_name] = dict(
        _envelope(code, f"#/components/schemas/{name}", event_type.get("dataschema")), title=code
    )
    return envelope_name


def _webhooks(outbound_types, schemas):
    """The ``webhooks`` section: one POST per outbound type, its envelope and data in ``schemas``."""
    webhooks = {}
    for event_type in sorted(outbound_types, key=lambda t: t["code"]):
        code = event_type["code"]
        envelope_name = _add_components(schemas, event_type)
        description = event_type.get("description") or event_type.get("name") or ""
        webhooks[code] = {
            "post": {
                "operationId": "receive." + code,
                "summary": event_type.get("name") or code,
                "description": f"{description}\n\nSent to the endpoints subscribed to this type, "
                "in the receiving system's codes.",
                "security": [],
                "parameters": WEBHOOK_HEADERS,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/cloudevents+json": {"schema": {"$ref": f"#/components/schemas/{envelope_name}"}}
                    },
                },
                "responses": {
                    "2XX": {"description": "Received: the event is delivered and is not sent again."},
                    "default": {
                        "description": "Any other answer or no answer: the event is retried with backoff "
                        "(`Retry-After` honoured), under the same webhook-id."
                    },
                },
            }
        }
    return webhooks


def build_document(
    event_types,
    server_url=None,
    title="Manufacturing Integration Hub API",
    version="1.0.0",
    outbound_types=(),
    resync=(),
):
    """The OpenAPI 3.1 document; ``event_types`` (inbound): [{code, name, description, schema}];
    ``outbound_types``: the same with ``dataschema``, the absolute URL of the type's schema;
    ``resync``: [{path, event_type, summary}], GET routes listing open records as the data of
    their (outbound) ``event_type``."""
    event_types = sorted(event_types, key=lambda t: t["code"])
    schemas = {
        "Problem": PROBLEM_SCHEMA,
        "Accepted": ACCEPTED_SCHEMA,
        "Message": MESSAGE_SCHEMA,
        "BatchResult": BATCH_RESULT_SCHEMA,
    }
    variants = [{"$ref": f"#/components/schemas/{_add_components(schemas, t)}"} for t in event_types]
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
        "403": _problem_response(
            "The key's user is not linked to a system, the type is not allowed, or the technical user lacks a right "
            "to apply the event (kept; re-posting it applies it again)."
        ),
        "405": _problem_response("Method not allowed on this URL (see the Allow header)."),
        "413": _problem_response("Body larger than the system's limit."),
        "415": _problem_response("Unsupported content type."),
        "422": _problem_response("Invalid event, unknown type, schema violation or business failure."),
        "429": {
            "description": "Rate limit exceeded.",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        },
        "500": _problem_response(
            "Internal error (kept in the inbox; re-posting applies it again): the body names only an incident id, "
            "logged beside the traceback."
        ),
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
        "424": _problem_response(
            "Kept and waiting: an earlier message about the same subject (order, transfer, lot) failed or is not "
            "applied yet (`waits_for`: its message id); applied in order once that one is processed or ignored."
        ),
        "503": _problem_response("Odoo cannot apply this type now (configuration); kept, re-posting applies it again."),
        **common_errors,
    }
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": (
                "REST API of the Manufacturing Integration Hub. External systems send "
                "CloudEvents 1.0 events authenticated with an integration API key (Bearer). Errors are "
                "RFC 9457 problem details. The hub sends its own events as signed webhooks "
                "(Standard Webhooks), listed under `webhooks`; each event's `dataschema` is the "
                "absolute URL of its data's JSON Schema."
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
            f"{BASE_PATH}/schemas/{{event_type}}.json": {
                "get": {
                    "operationId": "getDataSchema",
                    "summary": "JSON Schema of an event type's data (the CloudEvents `dataschema`)",
                    "security": [],
                    "parameters": [
                        {"name": "event_type", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {
                            "description": "JSON Schema draft 2020-12; cacheable (ETag, Cache-Control).",
                            "content": {SCHEMA_CONTENT_TYPE: {}},
                        },
                        "304": {"description": "Not modified (If-None-Match)."},
                        "404": _problem_response("No such event type."),
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
        "webhooks": _webhooks(outbound_types, schemas),
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
    for resource in resync:
        document["paths"][f"{BASE_PATH}/{resource['path']}"] = _resync_operation(resource, common_errors)
    return document


def _resync_operation(resource, common_errors):
    """GET of a resync route: the caller's open records, one page, as the data of their released events."""
    data_ref = f"#/components/schemas/{component_name(resource['event_type'])}"
    query = [
        {"name": "state", "in": "query", "required": False, "schema": {"type": "string", "enum": ["open"]}},
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 200},
        },
        {
            "name": "after",
            "in": "query",
            "required": False,
            "description": "The last id of the previous page (follow `next`).",
            "schema": {"type": "integer", "minimum": 0},
        },
    ]
    page = {
        "type": "object",
        "required": ["items", "next"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": data_ref}},
            "next": {"type": ["string", "null"], "description": "URL of the next page; null on the last one."},
        },
    }
    return {
        "get": {
            "operationId": "resync." + resource["path"],
            "summary": resource["summary"],
            "parameters": query,
            "responses": {
                "200": {
                    "description": "One page, in the caller's codes.",
                    "content": {"application/json": {"schema": page}},
                },
                "400": _problem_response("Invalid query."),
                **{status: common_errors[status] for status in ("401", "403", "405", "429")},
            },
        }
    }
