"""JSON Schema (draft 2020-12) checks that report every error with its JSON pointer."""

import functools
import json

from jsonschema import Draft202012Validator, FormatChecker

from .payload import canonical_json
from .timeconv import parse_rfc3339

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
FORMATS = FormatChecker()  # a copy of the default checkers, so registering here changes no global state


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value) -> bool:
    # jsonschema checks date-time only when an optional package is installed, and that one
    # accepts what our parser refuses: use the same rule as the rest of the hub, always.
    if isinstance(value, str):  # formats apply to strings only
        parse_rfc3339(value)
    return True


class SchemaViolation(ValueError):
    """An instance (or a schema) breaks the rules; ``errors`` lists every error as {path, message}."""

    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__("; ".join(f"{error['path'] or '/'}: {error['message']}" for error in errors))


def _pointer(path) -> str:
    """RFC 6901 JSON pointer of a jsonschema path ('' is the root)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def compile_validator(schema: dict) -> Draft202012Validator:
    """A validator for ``schema``: compile it once and keep it (e.g. per event type) to check many instances."""
    return Draft202012Validator(schema, format_checker=FORMATS)


@functools.lru_cache(maxsize=256)
def _validator(schema_text: str) -> Draft202012Validator:
    # Keyed by canonical text: the dispatcher and the API validate the same few schemas all day.
    return compile_validator(json.loads(schema_text))


def validator_errors(validator: Draft202012Validator, instance, prefix: str = "") -> list[dict]:
    """Every error of ``instance`` against a compiled validator as {path, message}, sorted by path;
    ``prefix`` places the paths in a larger document (e.g. '/data' for the data of an event)."""
    errors = [
        {"path": prefix + _pointer(error.absolute_path), "message": error.message}
        for error in validator.iter_errors(instance)
    ]
    return sorted(errors, key=lambda error: (error["path"], error["message"]))


def schema_errors(schema: dict, instance) -> list[dict]:
    """Every error of ``instance`` against ``schema`` as {path, message}, sorted by path."""
    return validator_errors(_validator(canonical_json(schema)), instance)


def ensure_valid(schema: dict, instance, prefix: str = "") -> None:
    """Raise SchemaViolation listing every error; ``prefix`` places the paths in a larger document
    (e.g. '/data' for the data of an event)."""
    errors = validator_errors(_validator(canonical_json(schema)), instance, prefix)
    if errors:
        raise SchemaViolation(errors)


_META_VALIDATOR = Draft202012Validator(
    Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
)


def check_schema(schema: dict) -> None:
    """Raise SchemaViolation (every error, paths inside the schema) unless ``schema`` is a valid 2020-12 schema."""
    errors = [
        {"path": _pointer(error.absolute_path), "message": error.message}
        for error in _META_VALIDATOR.iter_errors(schema)
    ]
    declared = schema.get("$schema") if isinstance(schema, dict) else None
    if declared not in (None, DRAFT_2020_12, DRAFT_2020_12 + "#"):
        # We always validate with 2020-12 rules: a schema written for another draft would mean something else.
        errors.append({"path": "/$schema", "message": f"only JSON Schema draft 2020-12 is supported ({DRAFT_2020_12})"})
    if errors:
        # The meta-schema is an allOf of vocabularies: the same error can come from several of them.
        unique = sorted({(error["path"], error["message"]) for error in errors})
        raise SchemaViolation([{"path": path, "message": message} for path, message in unique])


# -- codes of the receiving system (outbound) ------------------------------------------

CODE_ANNOTATION = "x-mfg-code"
ODOO_CODE_SUFFIX = "_odoo_code"
_COMPOSITES = ("allOf", "anyOf", "oneOf")


def _walk_codes(node, path, found):
    if not isinstance(node, dict):
        return
    for name, member in (node.get("properties") or {}).items():
        if isinstance(member, dict) and isinstance(member.get(CODE_ANNOTATION), str):
            found.append(((*path, name), member[CODE_ANNOTATION]))
        _walk_codes(member, (*path, name), found)
    if isinstance(node.get("items"), dict):
        _walk_codes(node["items"], (*path, "*"), found)
    for keyword in _COMPOSITES:
        for branch in node.get(keyword) or ():
            _walk_codes(branch, path, found)


def code_paths(schema: dict) -> tuple:
    """Every code member of ``schema`` as ((member names, '*' for an array's items), kind), in schema order.

    A code member is a property annotated ``"x-mfg-code": "<kind>"`` (followed through
    properties, items and allOf/anyOf/oneOf; not through $ref)."""
    found = []
    _walk_codes(schema, (), found)
    return tuple(found)


def _add_odoo_code_members(node):
    if not isinstance(node, dict):
        return
    properties = node.get("properties")
    if isinstance(properties, dict):
        for name, member in list(properties.items()):
            if isinstance(member, dict) and isinstance(member.get(CODE_ANNOTATION), str):
                properties.setdefault(
                    name + ODOO_CODE_SUFFIX,
                    {
                        "type": "string",
                        "description": f"Odoo's code of `{name}`: present only when `{name}` holds the "
                        f"receiving system's own code (a code mapping of kind {member[CODE_ANNOTATION]}).",
                    },
                )
            _add_odoo_code_members(member)
    _add_odoo_code_members(node.get("items"))
    for keyword in _COMPOSITES:
        for branch in node.get(keyword) or ():
            _add_odoo_code_members(branch)


def with_odoo_codes(schema: dict) -> dict:
    """A copy of ``schema`` where each code member ``<name>`` has its optional sibling ``<name>_odoo_code``."""
    extended = json.loads(json.dumps(schema))
    _add_odoo_code_members(extended)
    return extended


def _code_holders(node, path):
    """(object holding the member, member name) for each place ``path`` reaches in ``node``."""
    head, rest = path[0], path[1:]
    if head == "*":
        children = node if isinstance(node, list) else []
        for child in children:
            yield from _code_holders(child, rest)
        return
    if not isinstance(node, dict) or head not in node:
        return
    if not rest:
        yield node, head
    else:
        yield from _code_holders(node[head], rest)


def codes_by_kind(data, paths) -> dict:
    """{kind: set of the codes ``data`` holds at the code members ``paths`` (see code_paths)}."""
    found = {}
    for path, kind in paths:
        for holder, name in _code_holders(data, path):
            if isinstance(holder[name], str) and name + ODOO_CODE_SUFFIX not in holder:
                found.setdefault(kind, set()).add(holder[name])
    return found


def translate_codes(data, paths, external: dict):
    """A copy of ``data`` in the receiving system's codes; ``external``: {kind: {Odoo code: system's code}}.

    A translated member keeps Odoo's code beside it as ``<name>_odoo_code``; a member without a
    mapping keeps Odoo's code and gets no sibling; a member whose sibling the payload builder
    already set is already in the system's code and is left as it is."""
    translated = json.loads(json.dumps(data))
    for path, kind in paths:
        codes = external.get(kind) or {}
        for holder, name in _code_holders(translated, path):
            value = holder[name]
            sibling = name + ODOO_CODE_SUFFIX
            if isinstance(value, str) and sibling not in holder and codes.get(value, value) != value:
                holder[name] = codes[value]
                holder[sibling] = value
    return translated
