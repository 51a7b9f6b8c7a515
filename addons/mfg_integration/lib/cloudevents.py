"""CloudEvents 1.0, structured JSON mode."""

import json
import re

from .timeconv import parse_rfc3339, to_rfc3339

CONTENT_TYPE = "application/cloudevents+json"
CORE_ATTRIBUTES = {
    "specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "data", "data_base64",
}
EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")


def build_event(*, event_id, source, event_type, data, time, subject=None, dataschema=None, extensions=None):
    event = {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": event_type,
        "subject": subject,
        "time": to_rfc3339(time),
        "datacontenttype": "application/json",
        "dataschema": dataschema,
    }
    for name, value in (extensions or {}).items():
        if not EXTENSION_NAME.match(name) or name in CORE_ATTRIBUTES:
            raise ValueError(f"invalid CloudEvents extension attribute name {name!r}")
        event[name] = value
    event = {name: value for name, value in event.items() if value is not None}
    event["data"] = data
    return event


def to_bytes(event):
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


def _required_string(obj, name, errors, max_length=None):
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        errors.append({"path": f"/{name}", "message": f"'{name}' is required and must be a non-empty string"})
    elif max_length and len(value) > max_length:
        errors.append({"path": f"/{name}", "message": f"'{name}' is longer than {max_length} characters"})


def envelope_errors(obj):
    """Every way ``obj`` is not an acceptable inbound CloudEvent, as [{path, message}]."""
    if not isinstance(obj, dict):
        return [{"path": "", "message": "an event must be a JSON object"}]
    errors = []
    if obj.get("specversion") != "1.0":
        errors.append({"path": "/specversion", "message": "'specversion' must be \"1.0\""})
    _required_string(obj, "id", errors, max_length=256)
    _required_string(obj, "source", errors)
    _required_string(obj, "type", errors)
    if "time" in obj:
        try:
            parse_rfc3339(obj["time"])
        except ValueError as error:
            errors.append({"path": "/time", "message": str(error)})
    if "subject" in obj and not isinstance(obj["subject"], str):
        errors.append({"path": "/subject", "message": "'subject' must be a string"})
    if not isinstance(obj.get("data"), dict):
        errors.append({"path": "/data", "message": "'data' is required and must be a JSON object"})
    for name in obj:
        if name not in CORE_ATTRIBUTES and not EXTENSION_NAME.match(name):
            errors.append({"path": f"/{name}", "message": "extension attribute names are lowercase letters and digits"})
    return errors
