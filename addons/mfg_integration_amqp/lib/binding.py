"""The CloudEvents AMQP binding and routing keys: pure functions, no broker, no ORM.

Structured mode: the JSON envelope is the message body, content type
``application/cloudevents+json``. Binary mode: the event's ``data`` is the body, its
``datacontenttype`` the content type, and every other attribute an application property
(AMQP 0-9-1 header) named ``cloudEvents:<attribute>``.
"""

import json
import string

STRUCTURED, BINARY = "structured", "binary"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
HEADER_PREFIX = "cloudEvents:"
MAX_ROUTING_KEY_BYTES = 255  # AMQP 0-9-1 shortstr

# Placeholders of a routing key template, from the event "mfg.production_order.released.v1" about "mrp.production/7":
# {type} the whole type, {domain} "mfg", {entity} "production_order", {action} "released", {version} "v1",
# {subject} the record ("mrp.production/7"), {source} the emitting database's URI.
PLACEHOLDERS = ("type", "domain", "entity", "action", "version", "subject", "source")
DEFAULT_ROUTING_KEY = "{type}"


def template_error(template):
    """Why ``template`` is not a usable routing key template, or None."""
    if not template:
        return "the routing key template is empty"
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as error:
        return f"malformed template: {error}"
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            return f"unknown placeholder {{{name}}}: use " + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
        if spec or conversion:
            return f"placeholder {{{name}}} takes no format or conversion"
    return None


def routing_key(template, event):
    """The routing key of ``event`` (a parsed CloudEvent); raises ValueError when it does not fit AMQP."""
    segments = event["type"].split(".")
    values = dict.fromkeys(PLACEHOLDERS, "")
    values.update(type=event["type"], subject=event.get("subject") or "", source=event.get("source") or "")
    if len(segments) == 4:
        values.update(zip(("domain", "entity", "action", "version"), segments, strict=True))
    key = template.format(**values)
    if len(key.encode()) > MAX_ROUTING_KEY_BYTES:
        raise ValueError(f"routing key longer than {MAX_ROUTING_KEY_BYTES} bytes: {key[:80]}...")
    return key


def encode(event, body, mode):
    """(content type, headers, body) of the AMQP message carrying ``event``, whose structured
    JSON bytes are ``body`` (kept as they are: the bytes the outbox stored)."""
    if mode == STRUCTURED:
        return STRUCTURED_CONTENT_TYPE, {}, body
    headers = {
        HEADER_PREFIX + name: value if isinstance(value, str) else json.dumps(value)
        for name, value in event.items()
        if name not in ("data", "data_base64", "datacontenttype")
    }
    data = json.dumps(event.get("data"), separators=(",", ":"), ensure_ascii=False).encode()
    return event.get("datacontenttype", "application/json"), headers, data


def attributes(headers):
    """The CloudEvents attributes of a binary-mode message (its ``cloudEvents:*`` headers, names without
    the prefix), or None for a structured-mode message (no ``cloudEvents:specversion`` header)."""
    headers = headers or {}
    if HEADER_PREFIX + "specversion" not in headers:
        return None
    return {
        name[len(HEADER_PREFIX) :]: value.decode(errors="replace") if isinstance(value, bytes) else value
        for name, value in headers.items()
        if name.startswith(HEADER_PREFIX)
    }
