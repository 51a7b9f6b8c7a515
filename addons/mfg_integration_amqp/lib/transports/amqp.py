"""AMQP 0-9-1 transport (RabbitMQ): one CloudEvent published per delivery, proved by a publisher confirm.

The message is persistent (delivery mode 2) and published with the mandatory flag to the
endpoint's topic exchange: the broker's Basic.Ack is the delivery proof; a Basic.Return
(no queue bound for the routing key) or a Basic.Nack is a RETRY, so an unroutable event goes
through the endpoint's backoff to its dead letter and can be replayed once a queue is bound,
never silently dropped. Connection failures and a confirm not received within the endpoint's
timeout are RETRY without an answer (they count as "unreachable" for the circuit breaker).

pika's BlockingConnection is not thread-safe: each publisher (a connection and its confirm
channel) is used by one dispatcher thread at a time, borrowed from a module-level pool keyed by
the broker settings, and kept open across dispatcher runs (never one connection per message).
"""

import json
import logging
import socket
import threading
import time
from collections import defaultdict
from contextlib import contextmanager

import pika
from pika import exceptions

from odoo.addons.mfg_integration.lib.netpolicy import AddressPolicy
from odoo.addons.mfg_integration.lib.transport import DEAD, DELIVERED, RETRY, Transport, Verdict, register

from .. import binding

# pika logs every connection step at INFO and every failure it then raises (refused connection, broker restart)
# at ERROR with a traceback; each of those reaches us as an exception that becomes the message's recorded error
# or the consumer's last error: Odoo's log keeps one line per failure (the dispatcher's, the runner's).
logging.getLogger("pika").setLevel(logging.CRITICAL)

EXCHANGE_TYPE = "topic"
NO_ROUTE = 312  # AMQP reply code of a mandatory message no queue is bound for


class ConfirmTimeout(Exception):
    """The broker did not confirm within the endpoint's timeout."""


class AddressRefused(Exception):
    """The broker's address is refused by the company's outbound address policy."""


class Publisher:
    """One connection and its confirm-mode channel; used by one thread at a time."""

    def __init__(self, settings, address_policy, timeout):
        _check_address(settings, address_policy)
        # Heartbeats off: a BlockingConnection idle in the pool answers none, and the broker would close
        # it; a dead connection shows on its next use (see AmqpTransport.send) or by the confirm timeout.
        self.connection = pika.BlockingConnection(settings.parameters(timeout, heartbeat=0))
        try:
            with self._deadline(timeout):
                self.channel = self.connection.channel()
                self.channel.confirm_delivery()
        except BaseException:
            self.abort()  # the caller never gets this publisher: do not leave its connection open
            raise
        self.declared = set()

    @contextmanager
    def _deadline(self, timeout):
        """Bounds the blocking waits inside (BlockingChannel has no deadline of its own) with a timer of the
        connection's own I/O loop, which runs while they wait: raises ConfirmTimeout when it expires."""
        ioloop = self.connection._impl.ioloop  # pylint: disable=protected-access
        timer = ioloop.call_later(timeout, _confirm_timed_out)
        try:
            yield
        finally:
            ioloop.remove_timeout(timer)

    def publish(self, exchange, routing_key, properties, body, timeout):
        """Returns when the broker confirmed; raises UnroutableError, NackError, ConfirmTimeout or a
        connection error otherwise."""
        with self._deadline(timeout):
            if exchange not in self.declared:
                self.channel.exchange_declare(exchange, EXCHANGE_TYPE, durable=True)
                self.declared.add(exchange)
            self.channel.basic_publish(exchange, routing_key, body, properties, mandatory=True)

    def abort(self):
        """Drops the TCP connection without the closing handshake: a broker that stopped reading (memory
        alarm, overload) would never answer it, and a broken connection cannot."""
        if self.connection.is_open:
            self.connection._impl._adapter_disconnect_stream()  # pylint: disable=protected-access


def _confirm_timed_out():
    raise ConfirmTimeout()


def _check_address(settings, address_policy):
    infos = socket.getaddrinfo(settings.host, settings.port, type=socket.SOCK_STREAM)
    refusals = [address_policy.refusal(info[4][0]) for info in infos]
    if refusals and all(refusals):
        raise AddressRefused(f"{settings.host}: " + "; ".join(dict.fromkeys(refusals)))


class PublisherPool:
    """Idle publishers per (broker settings, address policy), shared by all dispatcher threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._idle = defaultdict(list)

    def borrow(self, key):
        """An idle publisher for ``key``, or None: the caller opens one."""
        with self._lock:
            idle = self._idle.get(key)
            return idle.pop() if idle else None

    def give_back(self, key, publisher):
        with self._lock:
            self._idle[key].append(publisher)

    def close_all(self):
        with self._lock:
            publishers = [p for idle in self._idle.values() for p in idle]
            self._idle.clear()
        for publisher in publishers:
            publisher.abort()


POOL = PublisherPool()

CONNECTION_ERRORS = (exceptions.AMQPConnectionError, exceptions.ChannelWrongStateError, OSError)


@register
class AmqpTransport(Transport):
    key = "amqp"
    schemes = ("amqp", "amqps")
    endpoint_fields = ("amqp_exchange", "amqp_routing_key", "amqp_binding")  # + "broker", see the endpoint model

    def send(self, delivery):
        policy = delivery.endpoint
        settings = policy.settings
        started = time.monotonic()
        event = json.loads(delivery.body)
        try:
            routing_key = binding.routing_key(settings["amqp_routing_key"], event)
        except (ValueError, KeyError) as error:
            return _verdict(DEAD, started, f"No routing key: {error}")
        content_type, headers, body = binding.encode(event, delivery.body, settings["amqp_binding"])
        properties = pika.BasicProperties(
            content_type=content_type,
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=delivery.event_id,
            type=event["type"],
            timestamp=int(time.time()),
            app_id="odoo-mfg-integration",
            headers=headers or None,
        )
        key = (settings["broker"], policy.address_policy or AddressPolicy())
        publisher = POOL.borrow(key)
        reused = publisher is not None
        while True:
            try:
                if publisher is None:
                    publisher = Publisher(settings["broker"], key[1], policy.timeout)
                publisher.publish(settings["amqp_exchange"], routing_key, properties, body, policy.timeout)
            except exceptions.UnroutableError:
                POOL.give_back(key, publisher)
                return _verdict(
                    RETRY,
                    started,
                    f"Unroutable ({NO_ROUTE} NO_ROUTE): no queue is bound to exchange "
                    f"{settings['amqp_exchange']!r} for routing key {routing_key!r}",
                )
            except exceptions.NackError:
                POOL.give_back(key, publisher)
                return _verdict(RETRY, started, "The broker refused the message (Basic.Nack)")
            except AddressRefused as error:
                return _verdict(DEAD, started, f"Refused by the outbound address policy: {error}")
            except exceptions.ChannelClosedByBroker as error:
                # E.g. 403 ACCESS_REFUSED or 406 PRECONDITION_FAILED (exchange of another type): the broker
                # answered; an administrator can fix it while the message waits for its next attempt.
                _discard(publisher)
                return _verdict(RETRY, started, f"The broker closed the channel: {error.reply_code} {error.reply_text}")
            except (exceptions.ProbableAuthenticationError, exceptions.ProbableAccessDeniedError) as error:
                return _verdict(RETRY, started, f"The broker refused the login: {type(error).__name__}")
            except ConfirmTimeout:
                _discard(publisher)
                return _verdict(RETRY, started, f"No publisher confirm within {policy.timeout:g} s", reachable=False)
            except CONNECTION_ERRORS as error:
                _discard(publisher)
                if reused:
                    # The pooled connection had died while idle (e.g. a broker restart): one more try on
                    # a fresh connection. A message lost with the old one is sent again under the same id.
                    publisher, reused = None, False
                    continue
                return _verdict(RETRY, started, f"{type(error).__name__}: {error}", reachable=False)
            POOL.give_back(key, publisher)
            return _verdict(DELIVERED, started, "confirmed by the broker (Basic.Ack)")


def _discard(publisher):
    if publisher is not None:
        publisher.abort()


def _verdict(outcome, started, text, reachable=True):
    return Verdict(
        outcome,
        int((time.monotonic() - started) * 1000),
        response=text,
        reason="" if outcome == DELIVERED else text,
        reachable=reachable,
    )
