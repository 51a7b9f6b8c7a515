"""JSON Schema (draft 2020-12) checks that report every error with its JSON pointer."""

import functools
import json

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from .timeconv import parse_rfc3339

FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value):
    # jsonschema only checks date-time when an optional package is installed: check it always.
    if isinstance(value, str):
        parse_rfc3339(value)
    return True


class SchemaViolation(ValueError):
    def __init__(self, errors):
        self.errors = errors
        super().__init__("; ".join(f"{error['path'] or '/'}: {error['message']}" for error in errors))


def _pointer(path):
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


@functools.lru_cache(maxsize=256)
def _validator(schema_text):
    return Draft202012Validator(json.loads(schema_text), format_checker=FORMATS)


def schema_errors(schema, instance):
    validator = _validator(json.dumps(schema, sort_keys=True))
    errors = [
        {"path": _pointer(error.absolute_path), "message": error.message} for error in validator.iter_errors(instance)
    ]
    return sorted(errors, key=lambda error: (error["path"], error["message"]))


def ensure_valid(schema, instance, prefix=""):
    errors = schema_errors(schema, instance)
    if errors:
        raise SchemaViolation([{"path": prefix + error["path"], "message": error["message"]} for error in errors])


def check_schema(schema):
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        raise SchemaViolation([{"path": _pointer(error.absolute_path), "message": error.message}]) from error
