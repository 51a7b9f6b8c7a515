"""CloudEvents 1.0, structured JSON mode."""

import json
import re
from dataclasses import dataclass
from datetime import datetime

from .payload import refuse_non_json
from .timeconv import parse_rfc3339, to_rfc3339

CONTENT_TYPE = "application/cloudevents+json"
SPEC_VERSION = "1.0"
CORE_ATTRIBUTES = frozenset(
    {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "data", "data_base64"}
)
EXTENSION_NAME = re.compile(r"[a-z0-9]{1,20}", re.ASCII)
MAX_ID_LENGTH = 256


def build_event(
    *,
    event_id: str,
    source: str,
    event_type: str,
    data: dict,
    time: datetime,
    subject: str | None = None,
    dataschema: str | None = None,
    extensions: dict | None = None,
) -> dict:
    """An outbound event; optional attributes and extensions whose value is None are left out."""
    event = {
        "specversion": SPEC_VERSION,
        "id": event_id,
        "source": source,
        "type": event_type,
        "subject": subject,
        "time": to_rfc3339(time),
        "datacontenttype": "application/json",
        "dataschema": dataschema,
    }
    for name, value in (extensions or {}).items():
        _check_extension_name(name)
        event[name] = value
    event = {name: value for name, value in event.items() if value is not None}
    event["data"] = data
    return event


@dataclass(frozen=True)
class Envelope:
    """What the outbound events of one type share: the dispatcher builds each body from it and
    the stored payload, without an ORM read or a second serialization of the data."""

    source: str
    event_type: str
    dataschema: str | None = None

    def body(self, event_id, data_json, time, subject, correlation_id, causation_id) -> bytes:
        """The bytes of ``to_bytes(build_event(...))`` for data stored as canonical JSON text
        (``payload.canonical_json``, sorted keys, compact): the text goes in as it is."""
        event = build_event(
            event_id=event_id,
            source=self.source,
            event_type=self.event_type,
            data={},
            time=time,
            subject=subject,
            dataschema=self.dataschema,
            extensions={"correlationid": correlation_id, "causationid": causation_id},
        )
        head = to_bytes(event)  # ends with "data":{}}
        return head[: -len(b"{}}")] + data_json.encode() + b"}"


def _check_extension_name(name: str) -> None:
    if not isinstance(name, str) or not EXTENSION_NAME.fullmatch(name):
        raise ValueError(f"invalid CloudEvents extension attribute name {name!r}: use 1-20 lowercase letters/digits")
    if name in CORE_ATTRIBUTES:
        raise ValueError(f"extension attribute {name!r} would shadow a core CloudEvents attribute")


def to_bytes(event: dict) -> bytes:
    """Compact UTF-8 JSON; the key order is the event's own (build_event's is fixed), so the
    same event always gives the same bytes, the ones that get signed."""
    return json.dumps(
        event, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=refuse_non_json
    ).encode()


def _error(name: str, message: str) -> dict:
    # JSON pointer escaping (RFC 6901): an unknown attribute name may contain '/' or '~'.
    return {"path": "/" + name.replace("~", "~0").replace("/", "~1"), "message": message}


def _string_errors(obj: dict, name: str, max_length: int | None = None) -> list[dict]:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        return [_error(name, f"'{name}' is required and must be a non-empty string")]
    if max_length and len(value) > max_length:
        return [_error(name, f"'{name}' is longer than {max_length} characters")]
    return []


def _time_errors(obj: dict) -> list[dict]:
    if "time" not in obj:
        return []
    try:
        parse_rfc3339(obj["time"])
    except ValueError as error:
        return [_error("time", str(error))]
    return []


def envelope_errors(obj) -> list[dict]:
    """Every way ``obj`` is not an acceptable inbound CloudEvent, as [{path, message}]; [] when valid."""
    if not isinstance(obj, dict):
        return [{"path": "", "message": "an event must be a JSON object"}]
    errors = []
    if obj.get("specversion") != SPEC_VERSION:
        errors.append(_error("specversion", f"'specversion' must be \"{SPEC_VERSION}\""))
    errors += _string_errors(obj, "id", max_length=MAX_ID_LENGTH)
    errors += _string_errors(obj, "source")
    errors += _string_errors(obj, "type")
    errors += _time_errors(obj)
    if "subject" in obj and not isinstance(obj["subject"], str):
        errors.append(_error("subject", "'subject' must be a string"))
    # Our API takes JSON data only: data_base64 (binary data) is refused by this rule too.
    if not isinstance(obj.get("data"), dict):
        errors.append(_error("data", "'data' is required and must be a JSON object"))
    for name in obj:
        if name not in CORE_ATTRIBUTES and not EXTENSION_NAME.fullmatch(name):
            errors.append(_error(name, "extension attribute names are 1-20 lowercase letters and digits"))
    return errors
