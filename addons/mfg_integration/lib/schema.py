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


@functools.lru_cache(maxsize=256)
def _validator(schema_text: str) -> Draft202012Validator:
    # Keyed by canonical text: the dispatcher and the API validate the same few schemas all day.
    return Draft202012Validator(json.loads(schema_text), format_checker=FORMATS)


def schema_errors(schema: dict, instance) -> list[dict]:
    """Every error of ``instance`` against ``schema`` as {path, message}, sorted by path."""
    validator = _validator(canonical_json(schema))
    errors = [
        {"path": _pointer(error.absolute_path), "message": error.message} for error in validator.iter_errors(instance)
    ]
    return sorted(errors, key=lambda error: (error["path"], error["message"]))


def ensure_valid(schema: dict, instance, prefix: str = "") -> None:
    """Raise SchemaViolation listing every error; ``prefix`` places the paths in a larger document
    (e.g. '/data' for the data of an event)."""
    errors = schema_errors(schema, instance)
    if errors:
        raise SchemaViolation([{"path": prefix + error["path"], "message": error["message"]} for error in errors])


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
