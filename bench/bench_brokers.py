"""Benchmark: events/s delivered through the broker transports with the broker's acknowledgement, beside
the webhook dispatcher and bare client publish loops with the same acknowledgements, in the same run.

Per transport (MQTT QoS 1 delivered on PUBACK against Mosquitto; AMQP persistent, mandatory, delivered on
the publisher confirm against RabbitMQ), the same CloudEvent body:
 - bare loop: one connection publishing one message after the other, each waiting for its acknowledgement
   (paho wait_for_publish; pika BlockingChannel in confirm mode), measured before and after the
   dispatcher (their mean is the baseline, so that a change of the machine's load weighs on both sides);
 - bare pipelined loop: the same connection publishing a batch, then waiting for all its acknowledgements
   (what a client at its fastest does with the same delivery proof);
 - the transport alone (no database): send_batch over the same batches;
 - the dispatcher: events emitted into the outbox, claimed, published through the transport, verdicts
   recorded and committed; with its CPU ms per event (this process) and database commits per event;
 - the ratios dispatcher / bare loop (issue 13's target: >= 0.5), / pipelined loop and / webhook dispatcher.
The brokers are throw-away ones started here (setup/lib.sh) unless MFG_MQTT_HOST/MFG_MQTT_PORT or
MFG_AMQP_URL name them.

Run it through `setup/bench --only brokers` (throw-away cluster and database), or directly:
    PYTHONPATH=. python3 bench/bench_brokers.py -c odoo.conf -d DB [--messages 1000] [--batch 100]
"""

import json
import os
import subprocess
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
import pika

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

from bench.common import argument_parser

PING = "mfg.integration.ping.v1"
EXCHANGE = "mfg.bench.events"
TOPIC = "bench/{plant}/{area}/mfg/{entity}/{event}"
TARGET_RATIO = 0.5
REPO = Path(__file__).resolve().parents[1]


def parse_args():
    parser = argument_parser(__doc__)
    parser.add_argument("--messages", type=int, default=1000, help="events per transport (default: 1000)")
    parser.add_argument("--batch", type=int, default=100, help="dispatcher claim batch (default: 100)")
    return parser.parse_args()


def lib_sh(script, *args):
    """Runs ``script`` with setup/lib.sh sourced; its last output line."""
    out = subprocess.run(
        ["bash", "-c", f'source "$0/setup/lib.sh" && {script}', str(REPO), *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""


@contextmanager
def mosquitto():
    """(host, port) of MFG_MQTT_HOST/PORT, else of a throw-away Mosquitto of this run."""
    if os.environ.get("MFG_MQTT_HOST") and os.environ.get("MFG_MQTT_PORT"):
        yield os.environ["MFG_MQTT_HOST"], int(os.environ["MFG_MQTT_PORT"])
        return
    with tempfile.TemporaryDirectory(prefix="mfg-bench-mqtt.") as directory:
        port = lib_sh('start_mosquitto "$1" && echo "$MFG_MQTT_PORT"', directory)
        try:
            yield "127.0.0.1", int(port)
        finally:
            lib_sh('stop_mosquitto "$1"', directory)


@contextmanager
def rabbitmq():
    """The URL of MFG_AMQP_URL, else of a throw-away RabbitMQ of this run."""
    if os.environ.get("MFG_AMQP_URL"):
        yield os.environ["MFG_AMQP_URL"]
        return
    with tempfile.TemporaryDirectory(prefix="mfg-bench-rabbitmq.") as directory:
        url = lib_sh('start_rabbitmq "$1" && echo "$MFG_AMQP_URL"', directory)
        try:
            yield url
        finally:
            lib_sh('stop_rabbitmq "$1"', directory)


# -- bare client loops ---------------------------------------------------------------------------------


def paho_client(host, port):
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect(host, port)
    client.loop_start()
    return client


def bare_paho(host, port, count, body, batch):
    """Seconds to publish ``count`` messages QoS 1 on one connection, waiting for each PUBACK in turn
    (``batch`` 1) or publishing ``batch`` messages then waiting for their PUBACKs."""
    client = paho_client(host, port)
    started = time.perf_counter()
    for first in range(0, count, batch):
        infos = [client.publish("bench/bare/mfg/ping", body, qos=1) for _index in range(min(batch, count - first))]
        for info in infos:
            info.wait_for_publish(10)
            assert info.is_published(), "no PUBACK"
    elapsed = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return elapsed


def bare_pika(url, count, body, batch):
    """Seconds to publish ``count`` persistent, mandatory messages on one connection in confirm mode, each
    waiting for its Basic.Ack (``batch`` 1, BlockingChannel), or ``batch`` at a time then their acks."""
    properties = pika.BasicProperties(content_type="application/cloudevents+json", delivery_mode=2)
    if batch == 1:
        connection = pika.BlockingConnection(pika.URLParameters(url))
        channel = connection.channel()
        channel.confirm_delivery()
        started = time.perf_counter()
        for _index in range(count):
            channel.basic_publish(EXCHANGE, PING, body, properties, mandatory=True)
        elapsed = time.perf_counter() - started
        connection.close()
        return elapsed
    return _pipelined_pika(url, count, body, batch, properties)


def _pipelined_pika(url, count, body, batch, properties):
    """pika's asynchronous connection: a batch published, its confirms (possibly multiple) counted, next batch."""
    state = {"sent": 0, "acked": 0, "started": 0.0, "elapsed": None}

    def publish_batch(channel):
        for _index in range(min(batch, count - state["sent"])):
            channel.basic_publish(EXCHANGE, PING, body, properties, mandatory=True)
            state["sent"] += 1

    def on_confirm(frame):
        method = frame.method
        assert isinstance(method, pika.spec.Basic.Ack), "nack"
        state["acked"] = method.delivery_tag if method.multiple else state["acked"] + 1
        if state["acked"] == count:
            state["elapsed"] = time.perf_counter() - state["started"]
            connection.close()
        elif state["acked"] == state["sent"]:
            publish_batch(channel_ref[0])

    channel_ref = []

    def on_selected(_frame):
        state["started"] = time.perf_counter()
        publish_batch(channel_ref[0])

    def on_channel(channel):
        channel_ref.append(channel)
        channel.confirm_delivery(ack_nack_callback=on_confirm, callback=on_selected)

    connection = pika.SelectConnection(
        pika.URLParameters(url),
        on_open_callback=lambda conn: conn.channel(on_open_callback=on_channel),
        on_close_callback=lambda conn, reason: conn.ioloop.stop(),
    )
    timer = threading.Timer(120, lambda: connection.ioloop.add_callback_threadsafe(connection.close))
    timer.start()
    connection.ioloop.start()
    timer.cancel()
    assert state["elapsed"] is not None, f"only {state['acked']} of {count} confirmed"
    return state["elapsed"]


# -- Odoo ------------------------------------------------------------------------------------------------


class Bench:
    def __init__(self, registry, messages, batch):
        self.registry = registry
        self.messages = messages
        self.batch = batch

    @contextmanager
    def env(self):
        with self.registry.cursor() as cr:
            yield api.Environment(cr, SUPERUSER_ID, {})

    def make_endpoint(self, name, values):
        """An endpoint subscribed to pings, on a new system; its id."""
        with self.env() as env:
            system = env["mfg.integration.system"].create(
                {"name": f"Bench {name}", "code": f"BENCH-{uuid.uuid4().hex[:8]}"}
            )
            ping = env["mfg.integration.event.type"]._get_by_code(PING)
            endpoint = env["mfg.integration.endpoint"].create(
                dict(
                    values,
                    name=f"bench {name}",
                    system_id=system.id,
                    max_parallel=16,
                    subscription_ids=[(0, 0, {"event_type_id": ping.id})],
                )
            )
            return endpoint.id

    def emit(self, endpoint_id):
        with self.env() as env:
            endpoint = env["mfg.integration.endpoint"].browse(endpoint_id)
            Message = env["mfg.integration.message"]
            for index in range(self.messages):
                data = {"endpoint": endpoint.name, "system": "bench", "message": f"ping {index}"}
                Message.emit(PING, endpoint, data, endpoints=endpoint)

    def commits(self):
        """Transactions committed in the bench database so far (PostgreSQL's statistics, flushed first)."""
        time.sleep(1.1)  # a backend reports its counters at most once a second
        with self.env() as env:
            env.cr.execute("SELECT pg_stat_clear_snapshot()")
            env.cr.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
            return env.cr.fetchone()[0]

    def dispatch(self, endpoint_id):
        """The dispatcher delivering the endpoint's emitted events: (events/s, CPU ms per event, commits per event,
        events delivered)."""
        self.emit(endpoint_id)
        commits = self.commits()
        cpu, started = time.process_time(), time.perf_counter()
        with self.env() as env:
            sent = env["mfg.integration.message"]._cron_dispatch(batch_size=self.batch, time_budget=600, linger=0)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        commits = self.commits() - commits - 1  # less the statistics' own transaction
        with self.env() as env:
            delivered = env["mfg.integration.message"].search_count(
                [("endpoint_id", "=", endpoint_id), ("state", "=", "done")]
            )
        return sent / elapsed, 1000 * cpu / max(sent, 1), commits / max(sent, 1), delivered

    def deliveries(self, endpoint_id, route=None):
        """``messages`` deliveries to the endpoint as the dispatcher would make them, for the transport alone."""
        from odoo.addons.mfg_integration.lib.delivery import Delivery

        with self.env() as env:
            endpoint = env["mfg.integration.endpoint"].browse(endpoint_id)
            policy = endpoint._dispatch_policy()  # loopback allowed: setup/bench's allow_loopback_delivery
        body = sample_body()
        return [
            Delivery(0, f"bench-{index}", 0, 0, body, policy, route=dict(route or {})) for index in range(self.messages)
        ]

    def drop(self, endpoint_id):
        with self.env() as env:
            endpoint = env["mfg.integration.endpoint"].browse(endpoint_id)
            env["mfg.integration.message"].search([("endpoint_id", "=", endpoint.id)]).unlink()
            system, brokers = endpoint.system_id, (endpoint.mqtt_broker_id, endpoint.amqp_broker_id)
            endpoint.unlink()
            system.unlink()
            for broker in brokers:
                broker.unlink()


def sample_body():
    event = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "urn:bench", "type": PING}
    return json.dumps(dict(event, data={"endpoint": "bench", "system": "bench", "message": "ping"})).encode()


def transport_alone(key, deliveries, batch):
    """Events/s of the transport's send_batch over ``deliveries`` in chunks of ``batch``, no database."""
    from odoo.addons.mfg_integration.lib import transport

    sender = transport.get(key)
    sender.send_batch(deliveries[:1])  # connects
    started = time.perf_counter()
    outcomes = set()
    for first in range(0, len(deliveries), batch):
        outcomes.update(verdict.outcome for verdict in sender.send_batch(deliveries[first : first + batch]))
    return len(deliveries) / (time.perf_counter() - started), outcomes


def report(name, bench, endpoint_id, bare, route=None):
    """Measures and prints the figures of one transport, then drops its endpoint; ``bare(batch)`` -> seconds
    for the bare loop; ``route``: what the dispatcher would add to its deliveries."""
    count = bench.messages
    try:
        sequential_before = count / bare(1)
        pipelined = count / bare(bench.batch)
        alone_rate, outcomes = transport_alone(name.lower(), bench.deliveries(endpoint_id, route), bench.batch)
        rate, cpu_ms, commits, delivered = bench.dispatch(endpoint_id)
        sequential_after = count / bare(1)
    finally:
        bench.drop(endpoint_id)
    sequential = (sequential_before + sequential_after) / 2
    print(f"  bare loop, one acknowledgement at a time: {sequential:8.1f} events/s "
          f"(before {sequential_before:.1f}, after {sequential_after:.1f})")  # fmt: skip
    print(f"  bare pipelined loop, {bench.batch} per round trip:  {pipelined:8.1f} events/s")
    print(f"  {name} transport alone, no database:        {alone_rate:8.1f} events/s {sorted(outcomes)}")
    print(
        f"  dispatcher through the {name} transport:    {rate:8.1f} events/s ({delivered} of {count} delivered; "
        f"{cpu_ms:.2f} CPU ms and {commits:.3f} commits per event)"
    )
    print(f"  {name} ratio dispatcher / bare loop: {rate / sequential:.3f} (target >= {TARGET_RATIO})")
    print(f"  {name} ratio dispatcher / bare pipelined loop: {rate / pipelined:.3f}")
    return rate


def measure_webhook(bench):
    from simulators.mfgsim.scripted_receiver import Receiver

    receiver = Receiver().start()
    endpoint_id = bench.make_endpoint("webhook", {"url": receiver.url})
    try:
        rate, cpu_ms, commits, delivered = bench.dispatch(endpoint_id)
    finally:
        bench.drop(endpoint_id)
        receiver.stop()
    print(f"Webhook dispatcher (reference): {rate:8.1f} events/s ({delivered} of {bench.messages} delivered; "
          f"{cpu_ms:.2f} CPU ms and {commits:.3f} commits per event)")  # fmt: skip
    return rate


def measure_mqtt(bench):
    print(f"MQTT (Mosquitto), QoS 1, delivered on PUBACK, {bench.messages} events")
    with mosquitto() as (host, port):
        with bench.env() as env:
            broker = env["mfg.integration.mqtt.broker"].create({"name": "Bench UNS", "host": host, "port": port})
            values = {
                "transport": "mqtt",
                "mqtt_broker_id": broker.id,
                "url": broker._url(),
                "mqtt_topic_template": TOPIC,
            }
        body = sample_body()
        return report(
            "MQTT",
            bench,
            bench.make_endpoint("mqtt", values),
            lambda batch: bare_paho(host, port, bench.messages, body, batch),
            {"topic": "bench/alone/mfg/ping"},
        )


def measure_amqp(bench):
    from odoo.addons.mfg_integration_amqp.lib.transports.amqp import POOL

    print(f"AMQP (RabbitMQ), persistent, mandatory, delivered on the publisher confirm, {bench.messages} events")
    with rabbitmq() as url:
        params = pika.URLParameters(url)
        connection = pika.BlockingConnection(params)
        channel = connection.channel()
        channel.exchange_declare(EXCHANGE, "topic", durable=True)
        queue = f"mfg.bench.{uuid.uuid4().hex[:8]}"
        channel.queue_declare(queue, durable=True)
        channel.queue_bind(queue, EXCHANGE, routing_key="#")  # every publish is routed and stored
        with bench.env() as env:
            broker = env["mfg.integration.amqp.broker"].create({
                "name": "Bench RabbitMQ", "host": params.host, "port": params.port,
                "virtual_host": params.virtual_host, "username": params.credentials.username,
                "password": params.credentials.password,
            })  # fmt: skip
            values = {"transport": "amqp", "amqp_broker_id": broker.id, "url": broker._url(), "amqp_exchange": EXCHANGE}
        body = sample_body()
        try:
            return report(
                "AMQP",
                bench,
                bench.make_endpoint("amqp", values),
                lambda batch: bare_pika(url, bench.messages, body, batch),
            )
        finally:
            POOL.close_all()
            channel.queue_delete(queue)
            connection.close()


def main():
    args = parse_args()
    odoo.tools.config.parse_config(["-c", args.config])
    bench = Bench(Registry(args.database), args.messages, args.batch)
    print(f"Odoo {odoo.release.version}, {args.messages} events per transport, claim batch {args.batch}")
    webhook = measure_webhook(bench)
    for name, rate in (("MQTT", measure_mqtt(bench)), ("AMQP", measure_amqp(bench))):
        print(f"{name} dispatcher / webhook dispatcher: {rate / webhook:.3f}")


if __name__ == "__main__":
    main()
