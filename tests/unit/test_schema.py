import jsonschema
import pytest
from mfg_integration_lib import schema

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["production_order", "quantity", "occurred_at"],
    "additionalProperties": False,
    "properties": {
        "production_order": {"type": "string", "minLength": 1},
        "quantity": {"type": "number", "exclusiveMinimum": 0},
        "occurred_at": {"type": "string", "format": "date-time"},
        "consumed": {"type": "array", "items": {"$ref": "#/$defs/consumption"}},
        "a/b~c": {"type": "integer"},
    },
    "$defs": {
        "consumption": {
            "type": "object",
            "required": ["material", "quantity"],
            "properties": {"material": {"type": "string"}, "quantity": {"type": "number", "minimum": 0}},
        }
    },
}
VALID = {"production_order": "WH/MO/1", "quantity": 5, "occurred_at": "2026-11-22T10:00:00Z"}


def test_a_valid_instance_has_no_error():
    assert schema.schema_errors(SCHEMA, VALID) == []
    schema.ensure_valid(SCHEMA, {**VALID, "consumed": [{"material": "M1", "quantity": 0}]})


def test_every_error_is_reported_with_its_json_pointer_sorted_by_path():
    instance = {
        "quantity": -1,
        "occurred_at": "22/11/2026",
        "consumed": [{"material": "M1", "quantity": 1}, {"material": "M2", "quantity": -3}, {"quantity": 1}],
        "a/b~c": "x",
        "extra": 1,
    }
    assert schema.schema_errors(SCHEMA, instance) == [
        {"path": "", "message": "'production_order' is a required property"},
        {"path": "", "message": "Additional properties are not allowed ('extra' was unexpected)"},
        {"path": "/a~1b~0c", "message": "'x' is not of type 'integer'"},
        {"path": "/consumed/1/quantity", "message": "-3 is less than the minimum of 0"},
        {"path": "/consumed/2", "message": "'material' is a required property"},
        {"path": "/occurred_at", "message": "'22/11/2026' is not a 'date-time'"},
        {"path": "/quantity", "message": "-1 is less than or equal to the minimum of 0"},
    ]


def test_a_non_object_instance_is_reported_at_the_root():
    assert schema.schema_errors(SCHEMA, [1]) == [{"path": "", "message": "[1] is not of type 'object'"}]


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2026-11-22T10:00:00Z", True),
        ("2026-11-22T11:00:00.25+01:00", True),
        ("2026-11-22T10:00:00", False),  # no time zone
        ("2026-11-22", False),
        ("2026-02-30T10:00:00Z", False),
        ("2026-11-22T10:00Z", False),
        ("now", False),
    ],
)
def test_date_time_format_is_really_checked(value, valid):
    errors = schema.schema_errors(SCHEMA, {**VALID, "occurred_at": value})
    assert errors == ([] if valid else [{"path": "/occurred_at", "message": f"{value!r} is not a 'date-time'"}])


def test_format_applies_to_strings_only():
    only_format = {"format": "date-time"}
    assert schema.schema_errors(only_format, 12) == []
    assert schema.schema_errors(only_format, "12") == [{"path": "", "message": "'12' is not a 'date-time'"}]


def test_other_standard_formats_still_work():
    assert schema.schema_errors({"format": "date"}, "2026-02-30") == [
        {"path": "", "message": "'2026-02-30' is not a 'date'"}
    ]
    assert schema.schema_errors({"format": "email"}, "someone.example.com") != []


def test_our_date_time_rule_does_not_leak_into_jsonschema_globals():
    default_checker = jsonschema.FormatChecker().checkers.get("date-time")
    assert default_checker is None or default_checker[0] is not schema.FORMATS.checkers["date-time"][0]


def test_ensure_valid_prefixes_every_path():
    with pytest.raises(schema.SchemaViolation) as caught:
        schema.ensure_valid(SCHEMA, {"production_order": "", "quantity": 0, "occurred_at": "x"}, prefix="/data")
    assert caught.value.errors == [
        {"path": "/data/occurred_at", "message": "'x' is not a 'date-time'"},
        {"path": "/data/production_order", "message": "'' should be non-empty"},
        {"path": "/data/quantity", "message": "0 is less than or equal to the minimum of 0"},
    ]
    assert isinstance(caught.value, ValueError)


def test_violation_text_lists_every_error_and_names_the_root():
    violation = schema.SchemaViolation([{"path": "", "message": "m1"}, {"path": "/a/0", "message": "m2"}])
    assert str(violation) == "/: m1; /a/0: m2"
    assert violation.errors == [{"path": "", "message": "m1"}, {"path": "/a/0", "message": "m2"}]


def test_validators_are_cached_by_canonical_schema_text():
    fresh = {"type": "object", "properties": {"n": {"type": "integer", "maximum": 987654}}}
    reordered = {"properties": {"n": {"maximum": 987654, "type": "integer"}}, "type": "object"}
    before = schema._validator.cache_info()
    schema.schema_errors(fresh, {"n": 1})
    schema.schema_errors(reordered, {"n": 2})
    schema.schema_errors(fresh, {"n": 3})
    after = schema._validator.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 2)


@pytest.mark.parametrize(
    "valid", [SCHEMA, {}, True, False, {"$schema": "https://json-schema.org/draft/2020-12/schema"}]
)
def test_check_schema_accepts_valid_schemas(valid):
    schema.check_schema(valid)


@pytest.mark.parametrize(
    ("invalid", "errors"),
    [
        ({"type": 12}, [{"path": "/type", "message": "12 is not valid under any of the given schemas"}]),
        ({"type": "strin"}, [{"path": "/type", "message": "'strin' is not valid under any of the given schemas"}]),
        ({"pattern": "["}, [{"path": "/pattern", "message": "'[' is not a 'regex'"}]),
        (
            {"required": "a", "minLength": -1},
            [
                {"path": "/minLength", "message": "-1 is less than the minimum of 0"},
                {"path": "/required", "message": "'a' is not of type 'array'"},
            ],
        ),
        (  # draft-07 tuple form: an array is no longer a schema in 2020-12
            {"items": [{"type": "string"}]},
            [{"path": "/items", "message": "[{'type': 'string'}] is not of type 'object', 'boolean'"}],
        ),
        (
            {"$schema": "http://json-schema.org/draft-07/schema#"},
            [
                {
                    "path": "/$schema",
                    "message": "only JSON Schema draft 2020-12 is supported "
                    "(https://json-schema.org/draft/2020-12/schema)",
                },
            ],
        ),
        ([], [{"path": "", "message": "[] is not of type 'object', 'boolean'"}]),
    ],
)
def test_check_schema_reports_every_error_once(invalid, errors):
    with pytest.raises(schema.SchemaViolation) as caught:
        schema.check_schema(invalid)
    assert caught.value.errors == errors


def test_a_compiled_validator_reports_the_same_errors_placed_under_a_prefix():
    validator = schema.compile_validator(SCHEMA)
    instance = {"production_order": "", "quantity": 0, "occurred_at": "x"}
    errors = schema.validator_errors(validator, instance, "/data")
    unprefixed = schema.schema_errors(SCHEMA, instance)
    assert errors == [{"path": "/data" + error["path"], "message": error["message"]} for error in unprefixed]
    assert [error["path"] for error in errors] == ["/data/occurred_at", "/data/production_order", "/data/quantity"]
    assert schema.validator_errors(validator, VALID) == []
