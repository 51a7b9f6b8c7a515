"""MQTT topic templates with ISA-95 levels (Unified Namespace), e.g.
``{enterprise}/{plant}/{area}/mfg/{entity}/{event}``. Pure functions: no ORM, no network.

Every value put into a topic level is made a single, safe level: the separators and wildcards of
MQTT (``/``, ``+``, ``#``), NUL and control characters become ``_``, so that a record's name can
never add a level, a wildcard or a ``$SYS`` prefix to the topic it is published on.
"""

import re
import string

# The placeholders a template may use, and what they are (shown on the endpoint form).
PLACEHOLDERS = {
    "enterprise": "the endpoint's enterprise level (default: the company's name)",
    "plant": "the record's plant (warehouse code)",
    "area": "the record's work center code, else the operation type's code",
    "entity": "what the event is about, from its type: production_order, transfer...",
    "event": "what happened, from its type: released, completed...",
    "version": "the event type's version: v1",
    "type": "the full event type",
    "subject": "the record's name (the CloudEvents subject)",
    "system": "the receiving system's code",
}
NO_VALUE = "none"  # a level whose value the record does not have (a transfer has no work center)
MAX_TOPIC_BYTES = 65535  # MQTT's limit for a UTF-8 string
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UNSAFE = re.compile(r"[/+#\x00-\x1f\x7f]")


def template_errors(template, placeholders=PLACEHOLDERS):
    """What is wrong with a topic template (empty list: nothing)."""
    if not template or not template.strip():
        return ["the topic template is empty"]
    errors = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        return [f"malformed template: {error}"]
    fields = [field for _text, field, _spec, _conversion in parsed if field is not None]
    for field in fields:
        if field not in placeholders:
            errors.append(f"unknown placeholder {{{field}}}; known: {', '.join(sorted(placeholders))}")
    if any(spec or conversion for _text, _field, spec, conversion in parsed):
        errors.append("placeholders take no format specification or conversion")
    literal = "".join(text for text, *_rest in parsed)
    if "+" in literal or "#" in literal:
        errors.append("a topic to publish on cannot hold the wildcards + or #")
    if template.startswith("$"):
        errors.append("topics starting with $ are reserved to the broker")
    if _CONTROL.search(literal):
        errors.append("the template holds control characters")
    if not fields and not errors:
        errors.append("the template has no placeholder: every event would share one topic")
    return errors


def filter_errors(topic_filter):
    """What is wrong with a topic filter to subscribe to (wildcards allowed where MQTT allows them)."""
    if not topic_filter or not topic_filter.strip():
        return ["the topic filter is empty"]
    errors = []
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            errors.append("# must be a whole level and the last one")
        if "+" in level and level != "+":
            errors.append("+ must be a whole level")
    if _CONTROL.search(topic_filter):
        errors.append("the filter holds control characters")
    return errors


def level(value):
    """One safe topic level for ``value`` (``NO_VALUE`` when empty)."""
    text = _UNSAFE.sub("_", str(value or "").strip())
    return text or NO_VALUE


def type_levels(event_type):
    """(entity, event, version) of an event type code: ``mfg.production_order.released.v1`` gives
    ("production_order", "released", "v1"); ``mfg.quality.lot.hold_placed.v1`` gives ("quality_lot",
    "hold_placed", "v1")."""
    parts = event_type.split(".")
    if len(parts) < 4:
        return level(".".join(parts[:-1])), level(parts[-1]), NO_VALUE
    return level("_".join(parts[1:-2])), level(parts[-2]), level(parts[-1])


def render(template, values):
    """The topic for ``values`` (a dict over PLACEHOLDERS): each value made one safe level."""
    entity, event, version = type_levels(values.get("type") or "")
    safe = {name: level(values.get(name)) for name in PLACEHOLDERS}
    safe.update(entity=entity, event=event, version=version)
    topic = template.format_map(safe)
    if len(topic.encode()) > MAX_TOPIC_BYTES:
        raise ValueError("the topic is longer than MQTT allows")
    return topic
