import json

from mfg_integration_lib import consumer

EVENT = {
    "specversion": "1.0",
    "id": "mes-1",
    "source": "urn:mes:np",
    "type": "mfg.work_order.progress_reported.v1",
    "time": "2026-11-22T10:00:00Z",
    "data": {"production_order": "NP/MO/00001"},
}


def test_structured_mode_is_the_whole_cloudevent_as_json():
    event, refusal = consumer.decode_event(json.dumps(EVENT).encode())
    assert refusal is None
    assert event == EVENT


def test_binary_mode_takes_the_attributes_from_the_headers_and_the_data_from_the_body():
    attributes = {name: value for name, value in EVENT.items() if name != "data"}
    attributes["x-broker-route"] = "ignored"  # not a CloudEvents attribute of the inbox
    event, refusal = consumer.decode_event(json.dumps(EVENT["data"]).encode(), attributes)
    assert refusal is None
    assert event == EVENT


def test_bytes_that_are_not_json_are_refused_as_malformed():
    for raw in (b"not json", b"\xff\xfe", b'{"a": NaN}', b'{"q": 1e999}', b"[" * 100_000):
        event, refusal = consumer.decode_event(raw)
        assert event is None
        assert refusal.message_id is None
        assert consumer.is_refused(refusal)
        assert refusal.body["title"] == "Malformed JSON"
        assert refusal.kind == "malformed"


def test_a_message_over_the_systems_limit_is_refused_before_parsing():
    event, refusal = consumer.decode_event(b"{" + b" " * 2000 + b"}", max_bytes=1000)
    assert event is None
    assert refusal.kind == "too_large"
    assert refusal.body["type"].endswith("body-too-large")


def test_lock_keys_are_signed_32_bit_pairs_stable_per_consumer():
    keys = {consumer.lock_key(f"mqtt:{system_id}") for system_id in range(1000)}
    assert len(keys) == 1000
    for namespace, value in keys:
        assert namespace == consumer.LOCK_NAMESPACE
        assert -(2**31) <= value < 2**31
    assert consumer.lock_key("amqp:7") == consumer.lock_key("amqp:7")


def test_a_stored_result_is_not_refused():
    class Stored:
        message_id = 42
        body = {"message_id": 42, "status": "pending"}

    assert not consumer.is_refused(Stored())
