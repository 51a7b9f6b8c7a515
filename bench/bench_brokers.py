"""Benchmark: events/s delivered through the broker transports with the broker's acknowledgement,
beside the webhook dispatcher and a bare client publish loop in the same run (target ratio >= 0.5 of
the bare loop).

MQTT: the dispatcher publishing through the MQTT transport (QoS 1, delivered on PUBACK, each verdict
recorded and committed) against a bare paho loop publishing the same CloudEvent with QoS 1, waiting for
each PUBACK. The broker is a throw-away Mosquitto started by this script (setup/lib.sh's
start_mosquitto) unless MFG_MQTT_HOST/MFG_MQTT_PORT name one.

Run it through `setup/bench` (throw-away cluster and database), or directly:
    python3 bench/bench_brokers.py -c odoo.conf -d DB [--messages 1000]
"""

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

PING = "mfg.integration.ping.v1"
REPO = Path(__file__).resolve().parents[1]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--messages", type=int, default=1000)
    return parser.parse_args()


class Mosquitto:
    """The broker to measure against: MFG_MQTT_HOST/PORT, else a throw-away one of this run."""

    def __init__(self):
        self.directory = None
        if os.environ.get("MFG_MQTT_HOST") and os.environ.get("MFG_MQTT_PORT"):
            self.host, self.port = os.environ["MFG_MQTT_HOST"], int(os.environ["MFG_MQTT_PORT"])
            return
        self.directory = tempfile.mkdtemp(prefix="mfg-bench-mqtt-")
        script = 'source "$1/setup/lib.sh" && start_mosquitto "$2" && echo "$MFG_MQTT_PORT"'
        out = subprocess.run(
            ["bash", "-c", script, "_", str(REPO), self.directory], check=True, capture_output=True, text=True
        )
        self.host, self.port = "127.0.0.1", int(out.stdout.split()[-1])

    def stop(self):
        if self.directory:
            script = 'source "$1/setup/lib.sh" && stop_mosquitto "$2"'
            subprocess.run(["bash", "-c", script, "_", str(REPO), self.directory], check=True)


class Bench:
    def __init__(self, registry):
        self.registry = registry

    def env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})

    def make_webhook_endpoint(self, url):
        with self.registry.cursor() as cr:
            env = self.env(cr)
            system = env["mfg.integration.system"].create({"name": "Bench MES", "code": f"BENCH-{time.time_ns()}"})
            event_type = env["mfg.integration.event.type"]._get_by_code(PING)
            env["mfg.integration.endpoint"].create(
                {
                    "name": "bench webhook",
                    "system_id": system.id,
                    "url": url,
                    "max_parallel": 16,
                    "subscription_ids": [(0, 0, {"event_type_id": event_type.id})],
                }
            )
            return system.id

    def make_mqtt_endpoint(self, host, port):
        with self.registry.cursor() as cr:
            env = self.env(cr)
            broker = env["mfg.integration.mqtt.broker"].create({"name": "Bench UNS", "host": host, "port": port})
            system = env["mfg.integration.system"].create({"name": "Bench UNS", "code": f"BENCH-{time.time_ns()}"})
            event_type = env["mfg.integration.event.type"]._get_by_code(PING)
            env["mfg.integration.endpoint"].create(
                {
                    "name": "bench mqtt",
                    "system_id": system.id,
                    "transport": "mqtt",
                    "mqtt_broker_id": broker.id,
                    "mqtt_topic_template": "bench/{plant}/{area}/mfg/{entity}/{event}",
                    "url": broker._url(),
                    "max_parallel": 16,
                    "subscription_ids": [(0, 0, {"event_type_id": event_type.id})],
                }
            )
            return system.id, broker.id

    def emit_pings(self, system_id, count):
        with self.registry.cursor() as cr:
            env = self.env(cr)
            endpoint = env["mfg.integration.system"].browse(system_id).endpoint_ids[:1]
            Message = env["mfg.integration.message"]
            for index in range(count):
                Message.emit(
                    PING, endpoint, {"endpoint": endpoint.name, "system": "bench", "message": f"ping {index}"},
                    endpoints=endpoint,
                )  # fmt: skip

    def dispatch_all(self):
        with self.registry.cursor() as cr:
            return self.env(cr)["mfg.integration.message"]._cron_dispatch(batch_size=100, time_budget=600)

    def delivered(self, system_id):
        with self.registry.cursor() as cr:
            return self.env(cr)["mfg.integration.message"].search_count(
                [("system_id", "=", system_id), ("state", "=", "done")]
            )

    def drop(self, system_id, broker_id=None):
        with self.registry.cursor() as cr:
            env = self.env(cr)
            env["mfg.integration.message"].search([("system_id", "=", system_id)]).unlink()
            env["mfg.integration.system"].browse(system_id).unlink()
            if broker_id:
                env["mfg.integration.mqtt.broker"].browse(broker_id).unlink()

    def dispatch_rate(self, system_id, messages):
        """(events/s, delivered) of the dispatcher delivering ``messages`` pings to the system's endpoint."""
        self.emit_pings(system_id, messages)
        started = time.perf_counter()
        sent = self.dispatch_all()
        return sent / (time.perf_counter() - started), self.delivered(system_id)


def webhook_rate(bench, messages):
    """The webhook dispatcher's events/s to a local receiver, the reference for every broker transport."""
    from simulators.mfgsim.scripted_receiver import Receiver

    receiver = Receiver().start()
    system_id = bench.make_webhook_endpoint(receiver.url)
    try:
        rate, delivered = bench.dispatch_rate(system_id, messages)
    finally:
        bench.drop(system_id)
        receiver.stop()
    print(f"  webhook dispatcher (reference): {rate:8.1f} msg/s ({delivered} of {messages} delivered)")
    return rate


def bare_paho_loop(host, port, count, body):
    """Seconds to publish ``count`` messages with QoS 1, each waiting for its PUBACK, on one connection."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect(host, port)
    client.loop_start()
    started = time.perf_counter()
    for _index in range(count):
        info = client.publish("bench/bare/mfg/integration/ping", body, qos=1)
        info.wait_for_publish(10)
    elapsed = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return elapsed


def mqtt_transport_alone(host, port, count, body):
    """Seconds for the MQTT transport's send() alone (no database: what the dispatcher adds is left out),
    one delivery after the other, like the bare loop."""
    import ipaddress

    from odoo.addons.mfg_integration.lib import transport
    from odoo.addons.mfg_integration.lib.delivery import Delivery, EndpointPolicy
    from odoo.addons.mfg_integration.lib.netpolicy import AddressPolicy
    from odoo.addons.mfg_integration_mqtt.lib.connection import BrokerSettings

    policy = EndpointPolicy(
        id=0, transport="mqtt", timeout=10, max_attempts=1, backoff_base=1, backoff_cap=1, max_parallel=1,
        secrets=[], failing=False, address_policy=AddressPolicy((ipaddress.ip_network("127.0.0.0/8"),)),
        settings={"broker": BrokerSettings(host, port, client_id="bench"), "mqtt_qos": 1, "mqtt_binary_mode": False},
    )  # fmt: skip
    delivery = Delivery(0, "bench", 0, 0, body, policy, route={"topic": "bench/alone/mfg/integration/ping"})
    mqtt = transport.get("mqtt")
    mqtt.send(delivery)  # connects
    started = time.perf_counter()
    for _index in range(count):
        mqtt.send(delivery)
    return time.perf_counter() - started


def measure_mqtt(bench, messages):
    print("MQTT: dispatcher through the MQTT transport (QoS 1, delivered on PUBACK) vs a bare paho QoS 1 loop")
    broker = Mosquitto()
    system_id, broker_id = bench.make_mqtt_endpoint(broker.host, broker.port)
    try:
        transport_rate, delivered = bench.dispatch_rate(system_id, messages)
        body = b'{"specversion":"1.0","id":"bench","source":"urn:bench","type":"' + PING.encode() + b'","data":{}}'
        bare_rate = messages / bare_paho_loop(broker.host, broker.port, messages, body)
        print(f"  MQTT transport: {transport_rate:8.1f} msg/s ({delivered} of {messages} delivered on PUBACK)")
        print(f"  bare paho QoS 1 loop: {bare_rate:8.1f} msg/s")
        print(f"  MQTT ratio (target >= 0.5): {transport_rate / bare_rate:.3f}")
        alone_rate = messages / mqtt_transport_alone(broker.host, broker.port, messages, body)
        print(f"  MQTT transport alone, no database: {alone_rate:8.1f} msg/s")
        print(f"  MQTT transport alone / bare loop: {alone_rate / bare_rate:.3f}")
        print(f"  MQTT transport / webhook dispatcher: {transport_rate / webhook_rate(bench, messages):.3f}")
    finally:
        bench.drop(system_id, broker_id)
        broker.stop()


def main():
    args = parse_args()
    odoo.tools.config.parse_config(["-c", args.config])
    bench = Bench(Registry(args.database))
    print(f"Odoo {odoo.release.version}, {args.messages} messages per transport")
    for name, measure in sorted(globals().items()):
        if name.startswith("measure_") and callable(measure):
            measure(bench, args.messages)


if __name__ == "__main__":
    main()
