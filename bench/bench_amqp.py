"""Benchmark: events/s delivered through the AMQP transport with publisher confirms, beside a bare pika loop.

Prints, in one run against one RabbitMQ (MFG_AMQP_URL, else a throw-away broker this script starts with
setup/lib.sh's start_rabbitmq and stops at the end):
 - bare pika loop: one BlockingConnection in confirm mode publishing the same persistent, mandatory
   messages one after the other (each waits for its Basic.Ack);
 - the AMQP transport alone (no ORM): AmqpTransport.send in a loop, one thread;
 - the dispatcher: events emitted into the outbox, then claimed, published through the transport with
   confirms, recorded and committed by Odoo's dispatcher;
 - the ratio dispatcher / bare loop and its target (>= 0.5).

Run it through `setup/bench` (throw-away cluster and database), or directly:
    python3 bench/bench_amqp.py -c odoo.conf -d DB [--messages 1000]
"""

import argparse
import os
import subprocess
import tempfile
import time
import uuid
from contextlib import contextmanager

import pika

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

PING = "mfg.integration.ping.v1"
EXCHANGE = "mfg.bench.events"
TARGET_RATIO = 0.5
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--messages", type=int, default=1000)
    return parser.parse_args()


@contextmanager
def rabbitmq():
    """The broker's URL: MFG_AMQP_URL, or a throw-away RabbitMQ started for this run."""
    if os.environ.get("MFG_AMQP_URL"):
        yield os.environ["MFG_AMQP_URL"]
        return
    with tempfile.TemporaryDirectory(prefix="mfg-bench-rabbitmq.") as directory:
        lib = os.path.join(REPO, "setup", "lib.sh")
        started = subprocess.run(
            ["bash", "-c", 'source "$0" && start_rabbitmq "$1" && echo "$MFG_AMQP_URL"', lib, directory],
            check=False,
            capture_output=True,
            text=True,
        )
        if started.returncode:
            raise SystemExit(f"RabbitMQ did not start:\n{started.stderr}")
        try:
            yield started.stdout.strip().splitlines()[-1]
        finally:
            subprocess.run(["bash", "-c", 'source "$0" && stop_rabbitmq "$1"', lib, directory], check=False)


class Queue:
    """A durable queue bound to the bench exchange, so that every publish is routed and stored."""

    def __init__(self, url):
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(EXCHANGE, "topic", durable=True)
        self.name = f"mfg.bench.{uuid.uuid4().hex[:8]}"
        self.channel.queue_declare(self.name, durable=True)
        self.channel.queue_bind(self.name, EXCHANGE, routing_key="#")

    def count(self):
        return self.channel.queue_declare(self.name, passive=True).method.message_count

    def purge(self):
        self.channel.queue_purge(self.name)

    def close(self):
        self.channel.queue_delete(self.name)
        self.connection.close()


def bare_loop(url, count, body):
    """Seconds for ``count`` confirmed persistent publishes on one connection, one after the other."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.confirm_delivery()
    properties = pika.BasicProperties(
        content_type="application/cloudevents+json; charset=utf-8", delivery_mode=pika.DeliveryMode.Persistent
    )
    started = time.perf_counter()
    for _index in range(count):
        channel.basic_publish(EXCHANGE, PING, body, properties, mandatory=True)
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


class Bench:
    def __init__(self, registry, url):
        self.registry = registry
        self.url = url

    def env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})

    def make_endpoint(self):
        params = pika.URLParameters(self.url)
        with self.registry.cursor() as cr:
            env = self.env(cr)
            broker = env["mfg.integration.amqp.broker"].create(
                {
                    "name": "Bench RabbitMQ",
                    "host": params.host,
                    "port": params.port,
                    "virtual_host": params.virtual_host,
                    "username": params.credentials.username,
                    "password": params.credentials.password,
                }
            )
            system = env["mfg.integration.system"].create({"name": "Bench backbone", "code": f"BENCH-{time.time_ns()}"})
            endpoint = env["mfg.integration.endpoint"].create(
                {
                    "name": "bench amqp",
                    "system_id": system.id,
                    "url": "amqp://bench",
                    "transport": "amqp",
                    "amqp_broker_id": broker.id,
                    "amqp_exchange": EXCHANGE,
                    "max_parallel": 16,
                    "subscription_ids": [
                        (0, 0, {"event_type_id": env["mfg.integration.event.type"]._get_by_code(PING).id})
                    ],
                }
            )
            return endpoint.id

    def emit(self, endpoint_id, count):
        with self.registry.cursor() as cr:
            env = self.env(cr)
            endpoint = env["mfg.integration.endpoint"].browse(endpoint_id)
            Message = env["mfg.integration.message"]
            for index in range(count):
                Message.emit(
                    PING,
                    endpoint,
                    {"endpoint": endpoint.name, "system": "bench", "message": f"ping {index}"},
                    endpoints=endpoint,
                )

    def deliveries(self, endpoint_id):
        """What the dispatcher would send for the endpoint's pending messages, for the transport alone: claimed
        as the dispatcher claims them, then rolled back (the messages stay pending)."""
        with self.registry.cursor() as cr:
            Message = self.env(cr)["mfg.integration.message"]
            count = Message.search_count([("endpoint_id", "=", endpoint_id), ("state", "=", "pending")])
            deliveries = [d for d in Message._claim_due(count) if d.endpoint.id == endpoint_id]
            cr.rollback()
            return deliveries

    def dispatch_all(self):
        with self.registry.cursor() as cr:
            return self.env(cr)["mfg.integration.message"]._cron_dispatch(batch_size=100, time_budget=600, linger=0)

    def drop(self, endpoint_id):
        with self.registry.cursor() as cr:
            env = self.env(cr)
            endpoint = env["mfg.integration.endpoint"].browse(endpoint_id)
            system, broker = endpoint.system_id, endpoint.amqp_broker_id
            env["mfg.integration.message"].search([("system_id", "=", system.id)]).unlink()
            system.unlink()
            broker.unlink()


def measure_amqp(bench, messages):
    """Events/s through the AMQP transport with confirms beside a bare pika confirm-mode loop, same run."""
    from odoo.addons.mfg_integration_amqp.lib.transports.amqp import POOL, AmqpTransport

    print(f"AMQP (RabbitMQ), publisher confirms, {messages} persistent events")
    queue = Queue(bench.url)
    endpoint_id = bench.make_endpoint()
    try:
        bench.emit(endpoint_id, messages)
        deliveries = bench.deliveries(endpoint_id)
        body = deliveries[0].body
        bare_before = messages / bare_loop(bench.url, messages, body)

        transport = AmqpTransport()
        started = time.perf_counter()
        outcomes = {transport.send(delivery).outcome for delivery in deliveries}
        transport_rate = messages / (time.perf_counter() - started)
        queue.purge()

        started = time.perf_counter()
        sent = bench.dispatch_all()
        dispatcher_rate = sent / (time.perf_counter() - started)
        stored = queue.count()
        # The bare loop again after the dispatcher: the baseline is the mean of both, so that a change of the
        # machine's load during the run (the broker's disk, other processes) weighs on both sides alike.
        bare_after = messages / bare_loop(bench.url, messages, body)
        bare_rate = (bare_before + bare_after) / 2
        print(
            f"  bare pika confirm loop (1 connection): {bare_rate:8.1f} events/s "
            f"(before {bare_before:.1f}, after {bare_after:.1f})"
        )
        print(f"  AMQP transport alone, 1 thread, no ORM: {transport_rate:8.1f} events/s ({outcomes})")
        print(
            f"  dispatcher through the AMQP transport: {dispatcher_rate:8.1f} events/s "
            f"({sent} confirmed and recorded, {stored} in the queue)"
        )
        print(f"  ratio dispatcher / bare loop: {dispatcher_rate / bare_rate:.3f} (target >= {TARGET_RATIO})")
    finally:
        POOL.close_all()
        bench.drop(endpoint_id)
        queue.close()


def main():
    args = parse_args()
    odoo.tools.config.parse_config(["-c", args.config])
    with rabbitmq() as url:
        measure_amqp(Bench(Registry(args.database), url), args.messages)


if __name__ == "__main__":
    main()
