"""MQTT transport: a CloudEvent published on the record's topic, delivered on the broker's PUBACK.

CloudEvents MQTT binding: structured mode (the whole event as JSON, content type
``application/cloudevents+json`` on MQTT 5) by default; binary mode (the ``data`` as the payload, the
attributes as MQTT 5 user properties) as the endpoint's option. With QoS 1 (the default) a message
counts as delivered only when the broker acknowledged it (PUBACK, PUBCOMP for QoS 2) within the
endpoint's timeout; anything else is a retry with the endpoint's backoff, circuit and dead letter.
The optional retained "current state" topic gets the same event, retained, once the event is acknowledged.
"""

import json
import threading
import time
from dataclasses import replace

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from odoo.addons.mfg_integration.lib import cloudevents
from odoo.addons.mfg_integration.lib.netpolicy import AddressPolicy
from odoo.addons.mfg_integration.lib.transport import DEAD, DELIVERED, RETRY, Transport, Verdict, register

from ..connection import AddressRefused, ConnectError, publishers

# PUBACK reason codes (MQTT 5) after which retrying cannot help: the message is dead-lettered
# (fix the broker's ACL or the template, then replay). Other failures are retried.
FINAL_REFUSALS = {
    0x87: "not authorized",
    0x90: "topic name invalid",
    0x99: "payload format invalid",
}


def _elapsed_ms(started):
    return int((time.monotonic() - started) * 1000)


# The same for every structured message, and only read by paho (packed when sent): made once, since
# paho's Properties() costs more CPU than the rest of a publication.
STRUCTURED = Properties(PacketTypes.PUBLISH)
STRUCTURED.ContentType = cloudevents.CONTENT_TYPE


def message_of(body, binary, protocol):
    """(payload, MQTT 5 properties or None) of a CloudEvent per the CloudEvents MQTT binding."""
    if protocol != mqtt.MQTTv5:
        return body, None  # MQTT 3.1.1: structured mode only (no properties to carry attributes)
    if not binary:
        return body, STRUCTURED
    properties = Properties(PacketTypes.PUBLISH)
    event = json.loads(body)
    data = event.pop("data", None)
    properties.ContentType = event.pop("datacontenttype", "application/json")
    properties.UserProperty = [(name, str(value)) for name, value in event.items() if value is not None]
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode(), properties


class _Acknowledgements:
    """PUBACK reason codes of failed publications, per client (paho's wait does not report them)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._failed = {}

    def on_publish(self, client, userdata, mid, reason_code, properties):
        if reason_code.is_failure:
            with self._lock:
                self._failed[(id(client), mid)] = reason_code

    def failure(self, client, mid):
        with self._lock:
            return self._failed.pop((id(client), mid), None)


_acks = _Acknowledgements()


@register
class MqttTransport(Transport):
    key = "mqtt"
    schemes = ("mqtt", "mqtts")
    endpoint_fields = ("mqtt_qos", "mqtt_binary_mode")  # plus "broker" (BrokerSettings), see the endpoint
    batched = True

    def send(self, delivery):
        return self.send_batch([delivery])[0]

    def send_batch(self, deliveries):
        """Publishes every delivery, then waits for their acknowledgements (paho keeps them in flight
        together): one round trip for the batch, not one per message."""
        started = time.monotonic()
        policy = deliveries[0].endpoint
        settings = policy.settings["broker"]
        address_policy = policy.address_policy or AddressPolicy()
        try:
            client = publishers.client(settings, address_policy)
        except AddressRefused as error:
            reason = f"Refused by the outbound address policy: {error}"
            return [Verdict(DEAD, _elapsed_ms(started), response=reason, reason=reason)] * len(deliveries)
        except ConnectError as error:
            reason = f"Broker unreachable: {error}"
            unreachable = Verdict(RETRY, _elapsed_ms(started), response=reason, reason=reason, reachable=False)
            return [unreachable] * len(deliveries)
        client.on_publish = _acks.on_publish
        deadline = started + policy.timeout
        verdicts = self._publish_all(client, [(d, d.route["topic"], False) for d in deliveries], deadline, started)
        retained = [
            (index, (delivery, delivery.route["state_topic"], True))
            for index, delivery in enumerate(deliveries)
            if verdicts[index].outcome == DELIVERED and delivery.route.get("state_topic")
        ]
        if retained:
            # The retained "current state" only once the event itself is acknowledged.
            states = self._publish_all(client, [publication for _index, publication in retained], deadline, started)
            for (index, (_delivery, state_topic, _retain)), state in zip(retained, states, strict=True):
                if state.outcome == DELIVERED:
                    state = replace(state, response=f"{verdicts[index].response}; retained on {state_topic}")
                verdicts[index] = state
        if not all(verdict.reachable for verdict in verdicts):
            publishers.discard(settings, address_policy, client)
        return verdicts

    def _publish_all(self, client, publications, deadline, started):
        """Verdicts of [(delivery, topic, retain)]: all published first, then their acknowledgements awaited."""
        sent = []
        for delivery, topic, retain in publications:
            settings = delivery.endpoint.settings
            payload, properties = message_of(delivery.body, settings["mqtt_binary_mode"], client.protocol)
            info = client.publish(topic, payload, qos=settings["mqtt_qos"], retain=retain, properties=properties)
            sent.append((delivery, topic, info))
        return [self._verdict(client, delivery, topic, info, deadline, started) for delivery, topic, info in sent]

    def _verdict(self, client, delivery, topic, info, deadline, started):
        try:
            info.wait_for_publish(max(deadline - time.monotonic(), 0.001))
        except (RuntimeError, ValueError) as error:
            reason = f"Not published on {topic}: {error}"
            return Verdict(RETRY, _elapsed_ms(started), response=reason, reason=reason, reachable=False)
        if not info.is_published():
            reason = f"No acknowledgement from the broker within {delivery.endpoint.timeout:g} s on {topic}"
            return Verdict(RETRY, _elapsed_ms(started), response=reason, reason=reason, reachable=False)
        failure = _acks.failure(client, info.mid)
        if failure is not None:
            reason = f"The broker refused the message on {topic}: {failure} (0x{failure.value:02x})"
            outcome = DEAD if failure.value in FINAL_REFUSALS else RETRY
            return Verdict(outcome, _elapsed_ms(started), status=failure.value, response=reason, reason=reason)
        qos = delivery.endpoint.settings["mqtt_qos"]
        acknowledgement = {0: "sent (QoS 0: no acknowledgement)", 1: "PUBACK", 2: "PUBCOMP"}[qos]
        return Verdict(DELIVERED, _elapsed_ms(started), response=f"{acknowledgement} on {topic}")
