# These tests commit on purpose: the dispatcher and the broker consumers work on committed data.
# pylint: disable=invalid-commit
"""A real Mosquitto (started by setup/test: MFG_MQTT_HOST/PORT/CONF) and MQTT clients acting as the
Unified Namespace's other participants."""

import json
import os
import subprocess
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from odoo.addons.mfg_integration.tests.common import CommittedCase


def broker_address():
    host, port = os.environ.get("MFG_MQTT_HOST"), os.environ.get("MFG_MQTT_PORT")
    if not host or not port:
        raise AssertionError("MFG_MQTT_HOST/MFG_MQTT_PORT are not set: run the MQTT tests through setup/test")
    return host, int(port)


class Broker:
    """The test run's Mosquitto, stopped and started again by the fault tests (same port, same persistence)."""

    def __init__(self):
        self.conf = os.environ.get("MFG_MQTT_CONF") or ""
        if not self.conf:
            raise AssertionError("MFG_MQTT_CONF is not set: run the MQTT tests through setup/test")
        self.pid_file = Path(self.conf).with_name("mosquitto.pid")

    def stop(self):
        pid = int(self.pid_file.read_text())
        os.kill(pid, 15)
        deadline = time.monotonic() + 20
        while self.pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.pid_file.exists():
            raise AssertionError("mosquitto did not stop")

    def start(self):
        subprocess.run(["mosquitto", "-c", self.conf, "-d"], check=True)
        host, port = broker_address()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                probe = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
                probe.connect(host, port)
                probe.disconnect()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("mosquitto did not start again")


class Subscriber:
    """A UNS consumer: subscribes to ``topic_filter`` (QoS 1, persistent session when ``session``),
    keeps every message received, reconnects by itself after a broker restart."""

    def __init__(self, topic_filter, session=False):
        host, port = broker_address()
        self.topic_filter = topic_filter
        self.messages = []
        self._received = threading.Condition()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-sub-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5
        )
        self.client.reconnect_delay_set(0.2, 1)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.on_message = self._on_message
        properties = None
        if session:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = 3600
        self.client.connect(host, port, clean_start=not session, properties=properties)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise AssertionError(f"not subscribed to {topic_filter}")

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        client.subscribe(self.topic_filter, qos=1)

    def _on_message(self, client, userdata, message):
        with self._received:
            self.messages.append(message)
            self._received.notify_all()

    def wait_for(self, count, timeout=30):
        """The messages once at least ``count`` arrived (fails after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        with self._received:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{len(self.messages)} of {count} messages on {self.topic_filter}")
                self._received.wait(remaining)
            return list(self.messages)

    def events(self, count, timeout=30):
        return [json.loads(message.payload) for message in self.wait_for(count, timeout)]

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def publish(topic, payload, user_properties=None):
    """Publish one message with QoS 1 and wait for the broker's PUBACK, as a plant device does."""
    host, port = broker_address()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect(host, port)
    client.loop_start()
    properties = None
    if user_properties:
        properties = Properties(PacketTypes.PUBLISH)
        properties.UserProperty = list(user_properties.items())
    info = client.publish(topic, payload, qos=1, properties=properties)
    info.wait_for_publish(10)
    client.disconnect()
    client.loop_stop()
    if not info.is_published():
        raise AssertionError(f"no PUBACK for {topic}")


class MqttCase(CommittedCase):
    """Committed ORM tests against the real broker."""

    def setUp(self):
        super().setUp()
        host, port = broker_address()
        self.broker = self.env["mfg.integration.mqtt.broker"].create(
            {"name": f"UNS {uuid.uuid4().hex[:6]}", "host": host, "port": port}
        )
        self.cr.commit()
        self.addCleanup(self._remove_broker)

    def _remove_broker(self):
        env = self.new_env()
        endpoints = (
            env["mfg.integration.endpoint"]
            .with_context(active_test=False)
            .search([("mqtt_broker_id", "=", self.broker.id)])
        )
        env["mfg.integration.message"].search([("endpoint_id", "in", endpoints.ids)]).unlink()
        endpoints.unlink()
        env["mfg.integration.system"].with_context(active_test=False).search(
            [("mqtt_broker_id", "=", self.broker.id)]
        ).write({"mqtt_broker_id": False})
        env["mfg.integration.mqtt.broker"].browse(self.broker.id).unlink()
        env.cr.commit()

    def subscriber(self, topic_filter, session=False):
        subscriber = Subscriber(topic_filter, session)
        self.addCleanup(subscriber.close)
        return subscriber
