"""What the dispatcher sends (plain values read at claim time), its sends in flight, and what it does with a verdict."""

import random
import time
from collections import Counter, namedtuple
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field

from . import backoff, circuit, transport
from .transport import DEAD, DELIVERED, Verdict

# A delivery's verdict, and when it came (time.monotonic()).
Answer = namedtuple("Answer", "delivery verdict answered_at")


@dataclass
class EndpointPolicy:
    """An endpoint's transport settings, secrets and retry policy, read once per claimed batch."""

    id: int
    transport: str
    timeout: float
    max_attempts: int
    backoff_base: float
    backoff_cap: float
    max_parallel: int
    secrets: list
    failing: bool  # had failures or a half-open circuit when claimed
    settings: dict = field(default_factory=dict)  # the transport's own endpoint fields (url, topic...)
    address_policy: object = None  # netpolicy.AddressPolicy for network transports

    @property
    def parallel_limit(self):
        # A failing endpoint gets one probe at a time, so that one result decides for the rest.
        return 1 if self.failing else self.max_parallel


@dataclass(eq=False)  # each claimed message is one object: compared by identity (a dispatcher's queues test membership)
class Delivery:
    """One claimed message and the facts needed to send it and record the outcome,
    read at claim time so that no transaction is open during the network call."""

    message_id: int
    event_id: str
    company_id: int
    attempt_count: int
    body: bytes
    endpoint: EndpointPolicy
    # Transport-specific values a transport's addon reads from the record at claim time (the MQTT
    # topic with the record's plant); the network call must not query the database.
    route: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    state: str  # done, retry or dead
    delay: float | None  # seconds until the next attempt (retry only)
    circuit_outcome: str | None  # what the circuit breaker learns, None: nothing


def decide(
    verdict: Verdict, attempts_done: int, policy: EndpointPolicy, rand: Callable[[], float] = random.random
) -> Decision:
    """The message's next state after the ``attempts_done``-th attempt (>= 1) ended with ``verdict``.

    A refusal (dead) says nothing about the receiver's health; a failure to retry counts
    against the circuit, as UNREACHABLE when no answer came at all."""
    if verdict.outcome == DELIVERED:
        return Decision("done", None, circuit.SUCCESS)
    if verdict.outcome == DEAD:
        return Decision("dead", None, None)
    learned = circuit.FAILURE if verdict.reachable else circuit.UNREACHABLE
    if attempts_done >= policy.max_attempts:
        return Decision("dead", None, learned)
    delay = backoff.next_delay(attempts_done, policy.backoff_base, policy.backoff_cap, verdict.retry_after, rand)
    return Decision("retry", delay, learned)


def take_group(waiting, delivery):
    """Takes out of ``waiting`` what goes out in one call with ``delivery``: every waiting delivery of its
    endpoint for a batched transport (a broker: publish all, then wait for all the acknowledgements),
    unless the endpoint is failing (one probe); else the delivery alone."""
    endpoint = delivery.endpoint
    if transport.get(endpoint.transport).batched and not endpoint.failing:
        group = [waiting_delivery for waiting_delivery in waiting if waiting_delivery.endpoint.id == endpoint.id]
    else:
        group = [delivery]
    for member in group:
        waiting.remove(member)
    return group


class InFlight:
    """One dispatcher's sends running in its thread pool: at most ``limit`` at once, and at most
    each endpoint's ``parallel_limit``; a send is a group of one endpoint's deliveries (see
    take_group); the answers come back as ``Answer`` tuples, one per delivery."""

    def __init__(self, pool, limit):
        self.pool = pool
        self.limit = limit
        self.futures = {}
        self.per_endpoint = Counter()

    def __len__(self):
        return len(self.futures)

    def deliveries(self):
        return [delivery for group in self.futures.values() for delivery in group]

    def can_send(self, endpoint):
        return self.per_endpoint[endpoint.id] < endpoint.parallel_limit and len(self.futures) < self.limit

    def send(self, group):
        endpoint = group[0].endpoint
        self.per_endpoint[endpoint.id] += 1
        self.futures[self.pool.submit(transport.get(endpoint.transport).send_batch, group)] = group

    def answers(self, timeout):
        """The answers that came within ``timeout`` seconds (at least one, unless none came)."""
        done, _pending = wait(self.futures, timeout=timeout, return_when=FIRST_COMPLETED)
        answered_at = time.monotonic()
        answers = []
        for future in done:
            group = self.futures.pop(future)
            self.per_endpoint[group[0].endpoint.id] -= 1
            answers.extend(
                Answer(delivery, verdict, answered_at) for delivery, verdict in zip(group, future.result(), strict=True)
            )
        return answers

    def gather_successes(self, answers, seconds, most, send_next):
        """``answers`` and those that come within ``seconds`` (at most ``most`` in all), as long as
        all are successes; ``send_next()`` is called after each arrival, so that the freed places
        are used at once. A failure ends the gathering: it may open a circuit."""
        until = time.monotonic() + seconds
        while answers and all(answer.verdict.outcome == DELIVERED for answer in answers):
            send_next()
            remaining = until - time.monotonic()
            if remaining <= 0 or not self.futures or len(answers) >= most:
                break
            more = self.answers(remaining)
            if not more:
                break
            answers = answers + more
        return answers
