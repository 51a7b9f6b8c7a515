"""Inbound AMQP: one system's queue consumed into the inbox, acknowledged only after storage.

The runner (core ``mfg.integration.broker.consumer``) keeps ``run`` going under an advisory lock.
Each message is handed to ``store`` (which commits it to the inbox), then acknowledged; a message
``store`` refused (not a CloudEvent, invalid, type not allowed) is rejected without requeue, so the
broker dead-letters it to the queue's dead-letter queue (``<queue>.dead``). A crash or an exception
before the acknowledgement leaves the message unacknowledged: the broker delivers it again when the
connection is gone, and the inbox's idempotency by CloudEvents id applies it once. At most
``prefetch`` messages are in flight unacknowledged.
"""

import logging

import pika
from pika import exceptions

from odoo.addons.mfg_integration.lib.consumer import Consumer, is_refused

from . import binding

_logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # how often the consume loop looks at should_stop() while the queue is idle
HEARTBEAT = 60


def dead_letter_queue(queue):
    return f"{queue}.dead"


def declare_queue(connection, queue):
    """The channel to consume ``queue`` on: the queue as it exists, or, when missing, a durable quorum
    queue (replicated on a RabbitMQ cluster) dead-lettering to ``<queue>.dead``, declared here."""
    channel = connection.channel()
    try:
        channel.queue_declare(queue, passive=True)
        return channel
    except exceptions.ChannelClosedByBroker as error:
        if error.reply_code != 404:
            raise
    channel = connection.channel()
    quorum = {"x-queue-type": "quorum"}
    channel.queue_declare(dead_letter_queue(queue), durable=True, arguments=quorum)
    channel.queue_declare(
        queue,
        durable=True,
        arguments=dict(quorum, **{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dead_letter_queue(queue)}),
    )
    return channel


class AmqpConsumer(Consumer):
    transport = "amqp"

    def __init__(self, system_id, settings, queue, prefetch, timeout=10.0):
        super().__init__(f"amqp:{system_id}", system_id)
        self.settings = settings
        self.queue = queue
        self.prefetch = prefetch
        self.timeout = timeout

    def run(self, store, should_stop):
        try:
            connection = pika.BlockingConnection(self.settings.parameters(self.timeout, heartbeat=HEARTBEAT))
        except (exceptions.AMQPError, OSError) as error:
            self.last_error = f"{type(error).__name__}: {error}"
            return
        try:
            channel = declare_queue(connection, self.queue)
            channel.basic_qos(prefetch_count=self.prefetch)
            self.connected, self.last_error = True, ""
            for method, properties, body in channel.consume(self.queue, inactivity_timeout=POLL_SECONDS):
                if should_stop():
                    break
                if method is None:
                    continue
                result = store(body, binding.attributes(properties.headers))
                if is_refused(result):
                    channel.basic_nack(method.delivery_tag, requeue=False)  # to the dead-letter queue
                else:
                    channel.basic_ack(method.delivery_tag)
        except (exceptions.AMQPError, OSError) as error:
            self.last_error = f"{type(error).__name__}: {error}"
        finally:
            self.connected = False
            # Unacknowledged messages (an exception of store, a stop between two messages) go back to
            # the queue when the connection closes.
            if connection.is_open:
                try:
                    connection.close()
                except (exceptions.AMQPError, OSError) as error:
                    # The broker requeues them anyway when it notices the connection is gone.
                    _logger.info("broker consumer %s: closing its connection failed: %s", self.key, error)
