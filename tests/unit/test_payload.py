import hashlib
import json
from datetime import datetime
from decimal import Decimal

import pytest
from mfg_integration_lib import payload


def test_canonical_json_sorts_keys_at_every_level_without_spaces():
    data = {"b": [{"z": 1, "a": None}], "a": {"y": True, "x": 1.5}}
    assert payload.canonical_json(data) == '{"a":{"x":1.5,"y":true},"b":[{"a":null,"z":1}]}'


def test_canonical_json_ignores_insertion_order_so_the_hash_is_stable():
    first = {"order": "WH/MO/1", "quantity": 5, "lines": [1, 2]}
    second = dict(reversed(list(first.items())))
    assert payload.canonical_json(first) == payload.canonical_json(second)
    assert payload.sha256_hex(payload.canonical_json(first)) == payload.sha256_hex(payload.canonical_json(second))


def test_canonical_json_keeps_unicode_and_round_trips():
    data = {"name": "Caf\u00e9 \u2713 \U0001f3ed", "qty": 0.1}
    text = payload.canonical_json(data)
    assert text == '{"name":"Caf\u00e9 \u2713 \U0001f3ed","qty":0.1}'
    assert json.loads(text) == data


@pytest.mark.parametrize(
    ("value", "type_name"),
    [(datetime(2026, 1, 1), "datetime"), (Decimal("1.5"), "Decimal"), ({1, 2}, "set"), (b"x", "bytes")],
)
def test_canonical_json_refuses_values_the_mapper_must_convert(value, type_name):
    with pytest.raises(TypeError, match=f"^{type_name} is not JSON serialisable"):
        payload.canonical_json({"value": value})


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_canonical_json_refuses_nan_and_infinity(value):
    with pytest.raises(ValueError):
        payload.canonical_json({"quantity": value})


def test_sha256_hex_of_utf8_text():
    assert payload.sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert payload.sha256_hex("{}") == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    assert payload.sha256_hex("\u00e9") == hashlib.sha256(b"\xc3\xa9").hexdigest()


def test_pretty_json_of_data_and_of_json_text():
    expected = '{\n  "a": [\n    1,\n    2\n  ],\n  "b": "\u00e9"\n}'
    assert payload.pretty_json({"b": "\u00e9", "a": [1, 2]}) == expected
    assert payload.pretty_json('{"b":"\u00e9","a":[1,2]}') == expected


def test_pretty_json_shows_invalid_json_text_as_is():
    assert payload.pretty_json("not json {") == "not json {"


def test_pretty_json_never_fails_on_odd_values():
    assert payload.pretty_json({"at": datetime(2026, 1, 1)}) == '{\n  "at": "2026-01-01 00:00:00"\n}'


def test_pretty_json_is_bounded():
    data = {"items": list(range(1000))}
    full = payload.pretty_json(data)
    bounded = payload.pretty_json(data, max_chars=50)
    assert bounded == f"{full[:50]}\u2026 (truncated, {len(full)} chars)"
    assert payload.pretty_json(data, max_chars=len(full)) == full


@pytest.mark.parametrize(
    ("text", "max_chars", "expected"),
    [
        (None, 10, ""),
        ("", 10, ""),
        ("short", 5, "short"),
        ("x" * 10, 4, "xxxx\u2026 (truncated, 10 chars)"),
        (b"x" * 10, 4, "xxxx\u2026 (truncated, 10 chars)"),
        (b"bad \xff\xfe byte", 100, "bad \ufffd\ufffd byte"),
        ("caf\u00e9".encode(), 100, "caf\u00e9"),
    ],
)
def test_excerpt(text, max_chars, expected):
    assert payload.excerpt(text, max_chars) == expected


def test_excerpt_default_bound_is_2000_chars():
    assert payload.excerpt("y" * 2000) == "y" * 2000
    assert payload.excerpt("y" * 2001).startswith("y" * 2000 + "\u2026 (truncated, 2001 chars)")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"data": {"lot": "L-1", "lines": [{"qty": 1}]}}, None),
        ({"data": {"lot": "L\ud800"}}, ("/data/lot", "contains a lone UTF-16 surrogate")),
        ({"id": "\udfff"}, ("/id", "contains a lone UTF-16 surrogate")),
        ({"data": {"a/b\ud800": 1}}, ("/data/a~1b\\ud800", "contains a lone UTF-16 surrogate")),
        ({"data": ["ok", "nul\x00"]}, ("/data/1", "contains a NUL character")),
        ({"data": {"x": [[[[]]]]}}, ("/data/x/0/0/0", "nested deeper than 4 levels")),
    ],
)
def test_unstorable_points_at_the_first_hostile_part(value, expected):
    assert payload.unstorable(value, max_depth=4) == expected


def test_unstorable_does_not_recurse_on_deep_nesting():
    deep = []
    for _ in range(100_000):
        deep = [deep]
    assert payload.unstorable({"data": deep}, max_depth=32) == ("/data" + "/0" * 32, "nested deeper than 32 levels")


def test_log_safe_escapes_line_breaks_and_control_characters():
    forged = "recall\n2030-01-05 INFO odoo: admin logged in\r\x1b[31m\u2028"
    assert payload.log_safe(forged) == "recall\\n2030-01-05 INFO odoo: admin logged in\\r\\x1b[31m\\u2028"
    assert payload.log_safe("Caf\u00e9 \u2713") == "Caf\u00e9 \u2713"
