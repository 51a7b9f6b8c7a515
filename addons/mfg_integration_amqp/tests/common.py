# These tests commit on purpose: delivery is about what happens after commit.
# pylint: disable=invalid-commit
"""The real RabbitMQ started by setup/test, seen by the tests as a counterpart: a consumer binding its own
queues, and an operator stopping and starting the broker."""

import os
import subprocess
import time
import uuid

import pika

from odoo.addons.mfg_integration.tests.common import CommittedCase

from ..lib.transports.amqp import POOL


def amqp_url():
    url = os.environ.get("MFG_AMQP_URL")
    if not url:
        raise AssertionError("MFG_AMQP_URL is not set: run the tests with setup/test, which starts RabbitMQ")
    return url


class RabbitMQ:
    """Stops and starts the test broker's AMQP side (rabbitmqctl stop_app/start_app: clients see it go down,
    durable queues and persistent messages survive, as in a broker restart)."""

    @staticmethod
    def _ctl(*args):
        env_file = os.environ.get("MFG_RABBITMQ_ENV")
        if not env_file:
            raise AssertionError("MFG_RABBITMQ_ENV is not set: run the tests with setup/test, which starts RabbitMQ")
        subprocess.run(
            ["bash", "-c", 'source "$0" && rabbitmqctl -q "$@"', env_file, *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def block_publishers(self, blocked=True):
        """A memory alarm: the broker stops reading from publishers, so no confirm comes."""
        self._ctl("set_vm_memory_high_watermark", "0.0000001" if blocked else "0.4")

    def stop(self):
        self._ctl("stop_app")

    def start(self):
        self._ctl("start_app")
        deadline = time.monotonic() + 60
        while True:
            try:
                pika.BlockingConnection(pika.URLParameters(amqp_url())).close()
                return
            except pika.exceptions.AMQPConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)


class AmqpCase(CommittedCase):
    """Committed ORM tests with an AMQP broker record pointing at the test RabbitMQ."""

    exchange = "mfg.test.events"

    def setUp(self):
        # Registered before the core's cleanup: runs after it (endpoints gone, the broker can go).
        self.addCleanup(self._remove_brokers)
        self._brokers = []
        super().setUp()
        params = pika.URLParameters(amqp_url())
        self.broker = self.env["mfg.integration.amqp.broker"].create(
            {
                "name": "Test RabbitMQ",
                "host": params.host,
                "port": params.port,
                "virtual_host": params.virtual_host,
                "username": params.credentials.username,
                "password": params.credentials.password,
            }
        )
        self._brokers.append(self.broker.id)
        self.consumer = pika.BlockingConnection(params)
        self.addCleanup(self._close_consumer)
        self.channel = self.consumer.channel()
        self.channel.exchange_declare(self.exchange, "topic", durable=True)
        self.cr.commit()

    def _close_consumer(self):
        if self.consumer.is_open:
            self.consumer.close()
        POOL.close_all()  # no publisher outlives the test (broker restarts, other tests' settings)

    def _remove_brokers(self):
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM mfg_integration_amqp_broker WHERE id = ANY(%s)", [self._brokers])

    def amqp_endpoint(self, event_types, **vals):
        vals.setdefault("amqp_exchange", self.exchange)
        vals.setdefault("backoff_base", 10.0)
        vals.setdefault("backoff_cap", 600.0)
        endpoint = self.make_endpoint(
            self.make_system(), "amqp://unused", event_types, transport="amqp", amqp_broker_id=self.broker.id, **vals
        )
        self.cr.commit()
        return endpoint

    def bind_queue(self, *binding_keys, durable=False):
        """A queue of the test's own, bound to the exchange with ``binding_keys`` (topic patterns)."""
        name = f"mfg.test.{uuid.uuid4().hex[:10]}"
        self.channel.queue_declare(name, durable=durable, auto_delete=False)
        self.addCleanup(self._delete_queue, name)
        for key in binding_keys:
            self.channel.queue_bind(name, self.exchange, routing_key=key)
        return name

    def _delete_queue(self, name):
        with pika.BlockingConnection(pika.URLParameters(amqp_url())) as connection:
            connection.channel().queue_delete(name)

    def reopen_consumer(self):
        """A new consumer connection (the previous one died with a broker restart)."""
        self.consumer = pika.BlockingConnection(pika.URLParameters(amqp_url()))
        self.channel = self.consumer.channel()

    def drain(self, queue):
        """Every message waiting in ``queue``: (method, properties, body) in queue order, acked."""
        received = []
        while True:
            method, properties, body = self.channel.basic_get(queue, auto_ack=True)
            if method is None:
                return received
            received.append((method, properties, body))
