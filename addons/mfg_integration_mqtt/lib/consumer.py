"""Inbound MQTT: a system's subscription to a topic filter, fed into the inbox by the core runner.

Persistent session (clean start off, QoS 1) with a stable client id per system, so that the broker
keeps what arrives while no runner is subscribed; manual acknowledgements, sent only after the
runner stored the message (``store`` returned): a process killed between receive and store leaves
the message unacknowledged and the broker delivers it again at the next connection. A refused message
(not JSON, invalid, not allowed) is published to the system's dead-letter topic, then acknowledged:
it never blocks the subscription and is never silently lost.
"""

import base64
import json
import queue
from datetime import datetime, timezone

from odoo.addons.mfg_integration.lib.consumer import BINARY_ATTRIBUTES, Consumer, is_refused

from .connection import connect

POLL = 0.5  # seconds between two looks at should_stop while nothing arrives
DEAD_LETTER_TIMEOUT = 10  # seconds for the dead-letter topic's PUBACK


def binary_attributes(message):
    """The CloudEvents attributes of a binary-mode message (MQTT 5 user properties holding at least
    ``specversion``), else None: the payload is then a structured-mode event."""
    properties = getattr(message, "properties", None)
    pairs = getattr(properties, "UserProperty", None) or []
    attributes = {name: value for name, value in pairs if name in BINARY_ATTRIBUTES}
    return attributes if "specversion" in attributes else None


def dead_letter(message, result):
    """The dead-letter record of a refused message: why, and the message itself (base64: any bytes)."""
    return json.dumps(
        {
            "refused_at": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "topic": message.topic,
            "kind": result.kind,  # why, as an inbox result kind (lib/inbox.py)
            "problem": result.body,
            "payload_base64": base64.b64encode(message.payload).decode(),
        }
    ).encode()


class MqttConsumer(Consumer):
    transport = "mqtt"

    def __init__(self, key, system_id, settings, client_id, topic_filter, dead_letter_topic):
        super().__init__(key, system_id)
        self.settings = settings
        self.client_id = client_id
        self.topic_filter = topic_filter
        self.dead_letter_topic = dead_letter_topic

    def run(self, store, should_stop):
        received = queue.Queue()

        def on_connect(client, flags):
            # Subscribing again on a resumed session is harmless and covers a session the broker lost.
            client.subscribe(self.topic_filter, qos=1)

        client = connect(
            self.settings,
            self.client_id,
            persistent=True,
            on_message=lambda _client, _userdata, message: received.put(message),
            on_connect=on_connect,
            manual_ack=True,
        )
        self.connected = True
        self.last_error = ""
        try:
            while not should_stop():
                if not client.is_connected():
                    self.last_error = "disconnected by the broker"
                    return
                try:
                    message = received.get(timeout=POLL)
                except queue.Empty:
                    continue
                result = store(message.payload, binary_attributes(message))
                if is_refused(result):
                    self._dead_letter(client, message, result)
                client.ack(message.mid, message.qos)
        finally:
            self.connected = False
            client.disconnect()
            client.loop_stop()

    def _dead_letter(self, client, message, result):
        """Publish the refused message to the dead-letter topic and wait for its PUBACK: only then may
        the original be acknowledged (else it is received again and refused again)."""
        info = client.publish(self.dead_letter_topic, dead_letter(message, result), qos=1)
        info.wait_for_publish(DEAD_LETTER_TIMEOUT)
        if not info.is_published():
            raise ConnectionError(f"no PUBACK for the dead letter on {self.dead_letter_topic}")
