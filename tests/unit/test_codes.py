"""Outbound codes: annotated code members, their Odoo-code siblings and the translation."""

import copy

from mfg_integration_lib import schema

RELEASED = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["product", "components"],
    "properties": {
        "production_order": {"type": "string"},
        "product": {"type": "string", "x-mfg-code": "product"},
        "plant": {"type": ["string", "null"]},
        "components": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "material": {"type": "string", "x-mfg-code": "product"},
                    "uom": {"type": "string", "x-mfg-code": "uom"},
                    "lot": {"type": ["string", "null"], "x-mfg-code": "lot"},
                },
            },
        },
    },
}
DATA = {
    "production_order": "WH/MO/00001",
    "product": "PUMP-1",
    "plant": "WH",
    "components": [
        {"material": "BODY-1", "uom": "Units", "lot": None},
        {"material": "PUMP-1", "uom": "kg", "lot": "L-1"},
    ],
}


def test_code_paths_follow_properties_and_items_in_schema_order():
    assert schema.code_paths(RELEASED) == (
        (("product",), "product"),
        (("components", "*", "material"), "product"),
        (("components", "*", "uom"), "uom"),
        (("components", "*", "lot"), "lot"),
    )


def test_with_odoo_codes_adds_an_optional_sibling_per_code_member_and_keeps_the_input():
    original = copy.deepcopy(RELEASED)
    extended = schema.with_odoo_codes(RELEASED)
    assert RELEASED == original
    assert extended["properties"]["product_odoo_code"]["type"] == "string"
    items = extended["properties"]["components"]["items"]
    assert {"material_odoo_code", "uom_odoo_code", "lot_odoo_code"} <= set(items["properties"])
    assert "production_order_odoo_code" not in extended["properties"]
    assert extended["required"] == ["product", "components"]
    schema.check_schema(extended)


def test_codes_by_kind_collects_strings_only():
    paths = schema.code_paths(RELEASED)
    expected = {"product": {"PUMP-1", "BODY-1"}, "uom": {"Units", "kg"}, "lot": {"L-1"}}
    assert schema.codes_by_kind(DATA, paths) == expected


def test_translate_puts_the_system_code_and_keeps_odoos_beside_it():
    paths = schema.code_paths(RELEASED)
    external = {"product": {"PUMP-1": "ART-900"}, "uom": {"Units": "PCE"}}
    translated = schema.translate_codes(DATA, paths, external)
    assert translated == {
        "production_order": "WH/MO/00001",
        "product": "ART-900",
        "product_odoo_code": "PUMP-1",
        "plant": "WH",
        "components": [
            {"material": "BODY-1", "uom": "PCE", "uom_odoo_code": "Units", "lot": None},
            {"material": "ART-900", "material_odoo_code": "PUMP-1", "uom": "kg", "lot": "L-1"},
        ],
    }
    assert DATA["product"] == "PUMP-1", "the input is not modified"
    schema.ensure_valid(schema.with_odoo_codes(RELEASED), translated)


def test_a_member_whose_sibling_the_builder_set_is_left_alone():
    data = {"product": "SUPPLIER-7", "product_odoo_code": "PUMP-1", "components": []}
    paths = schema.code_paths(RELEASED)
    assert schema.codes_by_kind(data, paths) == {}
    assert schema.translate_codes(data, paths, {"product": {"SUPPLIER-7": "X", "PUMP-1": "Y"}}) == data


def test_a_mapping_to_the_same_code_adds_no_sibling():
    paths = schema.code_paths(RELEASED)
    data = {"product": "PUMP-1", "components": []}
    translated = schema.translate_codes(data, paths, {"product": {"PUMP-1": "PUMP-1"}})
    assert translated == {"product": "PUMP-1", "components": []}
