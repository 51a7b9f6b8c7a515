"""Inbound MQTT as the plant sees it: a real Odoo server process whose cron runs the broker consumer,
a real Mosquitto, a device publishing with QoS 1; the process killed with SIGKILL between receiving a
message and storing it. Its own database (MFG_MQTT_DB): no other server's cron may run the consumer."""

import json
import os
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
import requests

from tests.harness import odoo_server_process, odoo_shell, required_env

from .test_api_blackbox import pg_connect

TYPE = "mfg.integration.code_mapping.reported.v1"

SETUP = """
import json, os, uuid
from datetime import timedelta
from odoo import fields
code = "UNS-" + uuid.uuid4().hex[:6]
broker = env["mfg.integration.mqtt.broker"].create(
    {"name": code, "host": os.environ["MFG_MQTT_HOST"], "port": int(os.environ["MFG_MQTT_PORT"])}
)
allowed = env.ref("mfg_integration.event_type_code_mapping_reported")
system = env["mfg.integration.system"].create({
    "name": code, "code": code, "inbound_event_type_ids": [(6, 0, allowed.ids)],
    "mqtt_broker_id": broker.id, "mqtt_topic_filter": code + "/+/mes/#",
})
system.action_create_technical_user()
event_type = env["mfg.integration.event.type"].search([("direction", "=", "outbound")], limit=1)
env["mfg.integration.endpoint"].create({
    "name": code + " UNS", "system_id": system.id, "transport": "mqtt", "mqtt_broker_id": broker.id,
    "url": "mqtt://from-the-broker", "subscription_ids": [(0, 0, {"event_type_id": event_type.id})],
})
monitor = env["res.users"].create({
    "name": "Monitoring " + code, "login": "monitoring-" + code.lower(),
    "groups_id": [(6, 0, env.ref("mfg_integration.group_mfg_integration_user").ids)],
})
key = env["mfg.integration.api.key.wizard"].with_user(monitor).create({
    "user_id": monitor.id, "scope": "mfg_integration_monitoring", "name": "monitoring",
    "expiration_date": fields.Datetime.now() + timedelta(days=1),
}).action_generate()["context"]["default_key"]
print("RESULT" + json.dumps({"system_id": system.id, "code": code, "key": key}))
"""


def event(code):
    return {
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": "urn:test:plant-device", "type": TYPE,
        "time": "2026-11-22T10:00:00Z",
        "data": {"kind": "product", "external_code": code, "odoo_code": "COMP-1"},
    }  # fmt: skip


def publish(topic, payload):
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect(os.environ["MFG_MQTT_HOST"], int(os.environ["MFG_MQTT_PORT"]))
    client.loop_start()
    info = client.publish(topic, json.dumps(payload), qos=1)
    info.wait_for_publish(10)
    client.disconnect()
    client.loop_stop()
    assert info.is_published(), "no PUBACK"


def stored(pg, system_id, event_id):
    with pg.cursor() as cr:
        cr.execute(
            "SELECT count(*) FROM mfg_integration_message WHERE system_id = %s AND event_id = %s",
            [system_id, event_id],
        )
        count = cr.fetchone()[0]
    pg.rollback()
    return count


def consumer_connected(pg, system_id):
    with pg.cursor() as cr:
        cr.execute("SELECT connected FROM mfg_integration_broker_consumer WHERE key = %s", [f"mqtt:{system_id}"])
        row = cr.fetchone()
    pg.rollback()
    return bool(row and row[0])


def wait(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    pytest.fail(f"not within {timeout} s: {what}", pytrace=False)


@pytest.fixture(scope="module")
def uns():
    conf, db = required_env("MFG_ODOO_CONF"), required_env("MFG_MQTT_DB")
    required_env("MFG_MQTT_HOST")
    out = odoo_shell(conf, db, SETUP)
    return conf, db, json.loads(out.split("RESULT", 1)[1])


def test_a_message_received_but_not_stored_when_odoo_is_killed_is_redelivered_and_applied_once(uns, tmp_path_factory):
    conf, db, setup = uns
    code, system_id = setup["code"], setup["system_id"]
    first, second = event("ART-1"), event("ART-2")
    with odoo_server_process(conf, db, tmp_path_factory.mktemp("mqtt_first")) as server:
        pg = pg_connect(server)
        wait(lambda: consumer_connected(pg, system_id), 120, "the server's cron running the system's consumer")
        publish(f"{code}/NP/mes/reports", first)
        wait(lambda: stored(pg, system_id, first["id"]), 120, "the first event stored by the server's consumer")
        # /health and /metrics while the consumer is subscribed.
        headers = {"Authorization": f"Bearer {setup['key']}"}
        consumer_up = (
            f'mfg_integration_broker_consumer_up{{system="{code}",consumer="mqtt:{system_id}",transport="mqtt"}} 1'
        )
        metrics = wait(
            lambda: (
                (text := requests.get(server.url("/api/mfg/v1/metrics"), headers=headers, timeout=30).text)
                and consumer_up in text
                and text
            ),
            60,
            "the consumer reported up in /metrics",
        )
        assert f'mfg_integration_endpoint_info{{system="{code}",endpoint="{code} UNS",transport="mqtt"}} 1' in metrics
        health = requests.get(server.url("/api/mfg/v1/health"), headers=headers, timeout=30).json()
        assert "broker_consumer_down" not in health["reasons"]
        # Storing blocks on a table lock: the consumer has received the second event, not stored it.
        locker = pg_connect(server)
        with locker.cursor() as cr:
            cr.execute("LOCK TABLE mfg_integration_message IN SHARE ROW EXCLUSIVE MODE")
        publish(f"{code}/NP/mes/reports", second)

        def store_waiting():
            with pg.cursor() as cr:
                cr.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'"
                    " AND query ILIKE %s",
                    [db, "%mfg_integration_message%"],
                )
                count = cr.fetchone()[0]
            pg.rollback()
            return count

        wait(store_waiting, 60, "the consumer waiting to store the second event")
        server.kill9()
        locker.rollback()
        locker.close()
        assert stored(pg, system_id, second["id"]) == 0
    # The broker kept the unacknowledged message in the system's persistent session.
    with odoo_server_process(conf, db, tmp_path_factory.mktemp("mqtt_second")) as server:
        wait(lambda: stored(pg, system_id, second["id"]), 120, "the second event redelivered and stored")
        time.sleep(3)  # nothing else arrives: each event stored once
        assert stored(pg, system_id, second["id"]) == 1
        assert stored(pg, system_id, first["id"]) == 1
    pg.close()
