"""Inbound AMQP through a real Odoo server whose consumer runner is killed with kill -9 mid-stream:
every event published to the system's queue ends up in the inbox once and is applied once.

The runner (cron *Integration: run broker consumers*) acknowledges a message only after the inbox
committed it: the messages it held unacknowledged when the process died (up to the prefetch) are
delivered again by RabbitMQ to the restarted server, and the inbox's idempotency by CloudEvents id
keeps them from being stored or applied twice.
"""

import json
import os
import time
import uuid

import pika
import pytest

from tests.chaos.conftest import Hub, OdooServer

EVENTS = 300


def _required(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the tests through setup/test (it starts RabbitMQ)", pytrace=False)
    return value


def _setup_system(hub, amqp_url, queue, prefix):
    params = pika.URLParameters(amqp_url)
    return hub.shell(
        f"""
import json
broker = env["mfg.integration.amqp.broker"].create({{
    "name": "Backbone", "host": {params.host!r}, "port": {params.port}, "virtual_host": {params.virtual_host!r},
    "username": {params.credentials.username!r}, "password": {params.credentials.password!r}}})
system = env["mfg.integration.system"].create({{
    "name": {prefix!r}, "code": {prefix!r}, "amqp_broker_id": broker.id, "amqp_queue": {queue!r}, "amqp_prefetch": 10,
    "inbound_event_type_ids": [(6, 0, env.ref("mfg_integration.event_type_code_mapping_reported").ids)]}})
system.action_create_technical_user()
env.ref("mfg_integration.ir_cron_run_broker_consumers").sudo()._trigger()
env.cr.commit()
print("RESULT " + json.dumps(system.id))
"""
    )


def _inbox(hub, system_id, prefix):
    return hub.shell(
        f"""
import json
env["mfg.integration.message"]._cron_process_inbound(time_budget=60)
env.cr.commit()
messages = env["mfg.integration.message"].search([("system_id", "=", {system_id}), ("direction", "=", "inbound")])
mappings = env["mfg.integration.code.mapping"].search(
    [("system_id", "=", {system_id}), ("external_code", "=like", {prefix + "-%"!r})])
states = sorted(set(messages.mapped("state")))
print("RESULT " + json.dumps({{"event_ids": messages.mapped("event_id"), "states": states, "mappings": len(mappings)}}))
"""
    )


def _complete_inbox(hub, system_id, prefix):
    inbox = _inbox(hub, system_id, prefix)
    return inbox if len(inbox["event_ids"]) >= EVENTS else None


def _queue_depth(channel, queue):
    try:
        return channel.queue_declare(queue, passive=True).method.message_count
    except pika.exceptions.ChannelClosedByBroker:
        return None


def _wait(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout}s waiting for {what}", pytrace=False)


def test_a_consumer_killed_between_receive_and_store_loses_nothing_and_applies_each_event_once(tmp_path):
    amqp_url = _required("MFG_AMQP_URL")
    hub = Hub(_required("MFG_ODOO_CONF"), _required("MFG_BLACKBOX_DB"))
    queue, prefix = f"odoo.blackbox.{uuid.uuid4().hex[:8]}", f"KILL{uuid.uuid4().hex[:6]}"
    system_id = _setup_system(hub, amqp_url, queue, prefix)
    server = OdooServer(hub.conf, hub.db, tmp_path, cron_workers=2, workers=1)
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        server.start()
        # The runner declares the queue when it subscribes.
        _wait(lambda: _queue_depth(connection.channel(), queue) is not None, 120, "the consumer's queue")
        channel.confirm_delivery()
        ids = [f"{prefix}-{index}" for index in range(EVENTS)]
        for event_id in ids:
            event = {
                "specversion": "1.0", "id": event_id, "source": "urn:test:backbone",
                "type": "mfg.integration.code_mapping.reported.v1", "time": "2026-12-02T08:00:00Z",
                "data": {"kind": "uom", "external_code": event_id, "odoo_code": "Units"},
            }  # fmt: skip
            channel.basic_publish("", queue, json.dumps(event).encode(), pika.BasicProperties(delivery_mode=2))
        # Mid-stream: some stored, others waiting, up to the prefetch received but not acknowledged.
        _wait(lambda: (_queue_depth(channel, queue) or EVENTS) < EVENTS - 20, 120, "the consumer to start storing")
        server.kill9()
        left = _queue_depth(channel, queue)
        assert 0 < left < EVENTS, "the kill must come mid-stream"

        server.start()
        _wait(lambda: _queue_depth(channel, queue) == 0, 180, "the restarted consumer to drain the queue")
        inbox = _wait(lambda: _complete_inbox(hub, system_id, prefix), 120, "every event in the inbox")
    finally:
        server.stop()
        connection.close()
        # The black-box database is shared: the next tests' server must not run this consumer.
        hub.shell(f'env["mfg.integration.system"].browse({system_id}).active = False\nprint("RESULT null")')
    assert sorted(inbox["event_ids"]) == sorted(ids)  # each once: the redelivered ones were not stored twice
    assert inbox["states"] == ["done"]  # applied
    assert inbox["mappings"] == EVENTS  # each applied once
    assert _queue_depth(pika.BlockingConnection(pika.URLParameters(amqp_url)).channel(), f"{queue}.dead") == 0
