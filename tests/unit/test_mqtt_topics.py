import importlib.util
import pathlib

import pytest

_PATH = pathlib.Path(__file__).resolve().parents[2] / "addons" / "mfg_integration_mqtt" / "lib" / "topics.py"
_SPEC = importlib.util.spec_from_file_location("mfg_integration_mqtt_topics", _PATH)
topics = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(topics)

DEFAULT = "{enterprise}/{plant}/{area}/mfg/{entity}/{event}"


def test_the_default_template_names_the_isa95_levels_and_the_event():
    values = {"enterprise": "Demo Pumps", "plant": "NP", "area": "ASSY", "type": "mfg.production_order.released.v1"}
    assert topics.render(DEFAULT, values) == "Demo Pumps/NP/ASSY/mfg/production_order/released"


def test_entity_event_and_version_come_from_the_event_type():
    assert topics.type_levels("mfg.production_order.released.v1") == ("production_order", "released", "v1")
    assert topics.type_levels("mfg.quality.lot.hold_placed.v1") == ("quality_lot", "hold_placed", "v1")


def test_a_missing_level_is_none_rather_than_an_empty_level():
    assert topics.render(DEFAULT, {"enterprise": "acme", "type": "mfg.x.done.v1"}) == "acme/none/none/mfg/x/done"


@pytest.mark.parametrize("hostile", ["WH/MO/0001", "a+b", "#", "x\x00y", "line\nbreak", "$SYS"])
def test_a_value_can_never_add_a_level_or_a_wildcard(hostile):
    topic = topics.render("{enterprise}/{subject}", {"enterprise": "acme", "subject": hostile})
    level = topic.split("/", 1)[1]
    assert "/" not in level and "+" not in level and "#" not in level
    assert not any(ord(char) < 32 for char in level)


@pytest.mark.parametrize(
    "template, word",
    [
        ("{enterprise}/{shift}/mfg", "unknown placeholder {shift}"),
        ("{enterprise}/+/mfg/{event}", "wildcards"),
        ("{enterprise}/#", "wildcards"),
        ("$SYS/{event}", "reserved"),
        ("plant/mfg", "no placeholder"),
        ("{plant!r}/mfg", "format specification"),
        ("{plant:>9}/mfg", "format specification"),
        ("{plant.__class__}/mfg", "unknown placeholder"),
        ("{plant", "malformed"),
        ("", "empty"),
    ],
)
def test_templates_are_checked_at_save(template, word):
    errors = topics.template_errors(template)
    assert any(word in error for error in errors), errors


def test_the_default_and_a_state_template_are_valid():
    assert topics.template_errors(DEFAULT) == []
    assert topics.template_errors("{enterprise}/{plant}/{area}/mfg/{entity}/{subject}/state") == []


@pytest.mark.parametrize("topic_filter", ["plant/+/mes/#", "#", "+/+/mfg/+/completed", "a/b"])
def test_valid_topic_filters(topic_filter):
    assert topics.filter_errors(topic_filter) == []


@pytest.mark.parametrize("topic_filter", ["plant/#/mes", "plant/mes+", "plant/m#", "", "a\x00b"])
def test_invalid_topic_filters(topic_filter):
    assert topics.filter_errors(topic_filter)
