"""AMQP 0-9-1 transport (RabbitMQ): one CloudEvent published per delivery, proved by a publisher confirm.

A claimed batch of an endpoint's deliveries is published in one go, then its confirms are awaited
together (one round trip for the batch): each message is still delivered only on its own Basic.Ack.

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


def _confirm_timed_out():
    raise ConfirmTimeout()


# What the broker said of a published message (None: nothing yet, when the deadline passed).
ACKED, NACKED, RETURNED = "acked", "nacked", "returned"


class Publisher:
    """One connection and its confirm-mode channel; used by one thread at a time.

    The confirm mode is set on pika's underlying channel rather than through BlockingChannel, whose
    basic_publish then waits for each confirm in turn: here a batch is written at once and its
    confirms (Basic.Ack, possibly ``multiple``) are collected as they come."""

    def __init__(self, settings, address_policy, timeout):
        _check_address(settings, address_policy)
        # Heartbeats off: a BlockingConnection idle in the pool answers none, and the broker would close
        # it; a dead connection shows on its next use (see AmqpTransport.send) or by the confirm timeout.
        self.connection = pika.BlockingConnection(settings.parameters(timeout, heartbeat=0))
        self.outcomes = {}  # delivery tag -> ACKED/NACKED/RETURNED
        self.returned = set()  # message ids of the Basic.Return (which comes before that message's Basic.Ack)
        self.last_tag = 0
        try:
            self.channel = self.connection.channel()
            selected = []
            self.channel._impl.confirm_delivery(  # pylint: disable=protected-access
                ack_nack_callback=self._on_confirm, callback=selected.append
            )
            self._process_until(lambda: selected, time.monotonic() + timeout)
            self.channel._impl.add_on_return_callback(self._on_return)  # pylint: disable=protected-access
        except BaseException:
            self.abort()  # the caller never gets this publisher: do not leave its connection open
            raise
        self.declared = set()

    def _on_return(self, _channel, _method, properties, _body):
        self.returned.add(properties.message_id)

    def _on_confirm(self, frame):
        method = frame.method
        outcome = ACKED if isinstance(method, pika.spec.Basic.Ack) else NACKED
        tags = (
            range(min(self.outcomes, default=method.delivery_tag), method.delivery_tag + 1) if method.multiple else ()
        )
        for tag in tags or (method.delivery_tag,):
            if self.outcomes.get(tag, NACKED) is None:
                self.outcomes[tag] = outcome

    def _process_until(self, done, deadline):
        """Runs the connection's I/O until ``done()``; raises ConfirmTimeout at the deadline (from a timer of the
        connection's own I/O loop: a broker that stopped reading never lets the output flush), the broker's
        channel closure or a connection error."""
        ioloop = self.connection._impl.ioloop  # pylint: disable=protected-access
        timer = ioloop.call_later(max(deadline - time.monotonic(), 0), _confirm_timed_out)
        try:
            self.channel._flush_output(done)  # pylint: disable=protected-access
        finally:
            ioloop.remove_timeout(timer)

    def publish_all(self, exchange, messages, timeout):
        """[(routing_key, properties, body)] -> their outcomes, in order: ACKED, NACKED, RETURNED (unroutable),
        or None when not confirmed within ``timeout``. Raises ChannelClosedByBroker or a connection error."""
        deadline = time.monotonic() + timeout
        if exchange not in self.declared:
            self.channel.exchange_declare(exchange, EXCHANGE_TYPE, durable=True)
            self.declared.add(exchange)
        self.outcomes.clear()
        self.returned.clear()
        tags = []
        for routing_key, properties, body in messages:
            self.channel._impl.basic_publish(  # pylint: disable=protected-access
                exchange, routing_key, body, properties, mandatory=True
            )
            self.last_tag += 1
            self.outcomes[self.last_tag] = None
            tags.append(self.last_tag)
        try:
            self._process_until(lambda: None not in self.outcomes.values(), deadline)
        except ConfirmTimeout:
            pass  # what was confirmed counts; the rest is retried
        return [
            RETURNED if self.outcomes[tag] == ACKED and properties.message_id in self.returned else self.outcomes[tag]
            for tag, (_key, properties, _body) in zip(tags, messages, strict=True)
        ]

    def abort(self):
        """Drops the TCP connection without the closing handshake: a broker that stopped reading (memory
        alarm, overload) would never answer it, and a broken connection cannot."""
        if self.connection.is_open:
            self.connection._impl._adapter_disconnect_stream()  # pylint: disable=protected-access


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
    batched = True

    def send(self, delivery):
        return self.send_batch([delivery])[0]

    def send_batch(self, deliveries):
        policy = deliveries[0].endpoint
        settings = policy.settings
        started = time.monotonic()
        verdicts = [None] * len(deliveries)
        indexes, messages = [], []
        for index, delivery in enumerate(deliveries):
            event = json.loads(delivery.body)
            try:
                routing_key = binding.routing_key(settings["amqp_routing_key"], event)
            except (ValueError, KeyError) as error:
                verdicts[index] = _verdict(DEAD, started, f"No routing key: {error}")
                continue
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
            indexes.append(index)
            messages.append((routing_key, properties, body))
        if messages:
            for index, verdict in zip(indexes, self._publish(policy, messages, started), strict=True):
                verdicts[index] = verdict
        return verdicts

    def _publish(self, policy, messages, started):
        """Verdicts of [(routing key, properties, body)] published on one pooled connection."""
        settings = policy.settings
        exchange = settings["amqp_exchange"]
        key = (settings["broker"], policy.address_policy or AddressPolicy())
        publisher = POOL.borrow(key)
        reused = publisher is not None
        while True:
            try:
                if publisher is None:
                    publisher = Publisher(settings["broker"], key[1], policy.timeout)
                outcomes = publisher.publish_all(exchange, messages, policy.timeout)
            except AddressRefused as error:
                return [_verdict(DEAD, started, f"Refused by the outbound address policy: {error}")] * len(messages)
            except exceptions.ChannelClosedByBroker as error:
                # E.g. 403 ACCESS_REFUSED or 406 PRECONDITION_FAILED (exchange of another type): the broker
                # answered; an administrator can fix it while the messages wait for their next attempt.
                _discard(publisher)
                text = f"The broker closed the channel: {error.reply_code} {error.reply_text}"
                return [_verdict(RETRY, started, text)] * len(messages)
            except (exceptions.ProbableAuthenticationError, exceptions.ProbableAccessDeniedError) as error:
                return [_verdict(RETRY, started, f"The broker refused the login: {type(error).__name__}")] * len(
                    messages
                )
            except ConfirmTimeout:  # no confirm of the confirm mode itself
                _discard(publisher)
                text = f"No publisher confirm within {policy.timeout:g} s"
                return [_verdict(RETRY, started, text, reachable=False)] * len(messages)
            except CONNECTION_ERRORS as error:
                _discard(publisher)
                if reused:
                    # The pooled connection had died while idle (e.g. a broker restart): one more try on
                    # a fresh connection. A message lost with the old one is sent again under the same id.
                    publisher, reused = None, False
                    continue
                return [_verdict(RETRY, started, f"{type(error).__name__}: {error}", reachable=False)] * len(messages)
            if None in outcomes:
                _discard(publisher)  # a broker that stopped confirming (memory alarm): a fresh connection next time
            else:
                POOL.give_back(key, publisher)
            return [_outcome_verdict(outcome, exchange, routing_key, policy, started)
                    for outcome, (routing_key, _properties, _body) in zip(outcomes, messages, strict=True)]  # fmt: skip


def _outcome_verdict(outcome, exchange, routing_key, policy, started):
    if outcome == ACKED:
        return _verdict(DELIVERED, started, "confirmed by the broker (Basic.Ack)")
    if outcome == RETURNED:
        return _verdict(
            RETRY,
            started,
            f"Unroutable ({NO_ROUTE} NO_ROUTE): no queue is bound to exchange {exchange!r} "
            f"for routing key {routing_key!r}",
        )
    if outcome == NACKED:
        return _verdict(RETRY, started, "The broker refused the message (Basic.Nack)")
    return _verdict(RETRY, started, f"No publisher confirm within {policy.timeout:g} s", reachable=False)


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
