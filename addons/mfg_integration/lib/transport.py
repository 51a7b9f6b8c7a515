"""The transport seam: how a claimed delivery reaches its receiver.

A transport turns one delivery into a ``Verdict`` (delivered, retry or dead) and owns
everything protocol-specific: the request, its signature, the classification of the
answer, the receiver's wish to be called later. The dispatcher only stores the verdict
and decides what comes next (``delivery.decide``). No ORM here: no transaction is open
while a receiver is being waited for.

Adding a transport: one module in ``lib/transports/`` with a ``Transport`` subclass
decorated with ``@register``, its configuration fields on the endpoint (named in
``endpoint_fields``), and its key in the endpoint's ``transport`` selection.
"""

from dataclasses import dataclass

DELIVERED, RETRY, DEAD = "delivered", "retry", "dead"

_TRANSPORTS = {}


@dataclass(frozen=True)
class Verdict:
    outcome: str  # DELIVERED, RETRY or DEAD
    duration_ms: int
    status: int = 0  # the protocol's answer code (HTTP status), 0 when none came
    response: str = ""  # the start of the receiver's answer, or the error
    reason: str = ""  # why it failed, for people
    retry_after: float | None = None  # seconds the receiver asked us to wait
    reachable: bool = True  # False: no answer at all (refused, timed out)


class Transport:
    """One way of delivering; instances are shared by threads and keep no per-delivery state."""

    key = ""
    schemes = ()  # URL schemes of the endpoint's address this transport accepts
    endpoint_fields = ()  # endpoint fields this transport reads, copied into EndpointPolicy.settings
    # True: the dispatcher hands over all the claimed deliveries of one endpoint in one send_batch call
    # (brokers: publish them all, then wait for all the acknowledgements, one round trip for the lot).
    batched = False

    def send(self, delivery) -> Verdict:
        raise NotImplementedError

    def send_batch(self, deliveries) -> list[Verdict]:
        """The verdicts of ``deliveries`` (one endpoint's), in their order."""
        return [self.send(delivery) for delivery in deliveries]


def register(cls):
    _TRANSPORTS[cls.key] = cls()
    return cls


def get(key):
    try:
        return _TRANSPORTS[key]
    except KeyError:
        raise ValueError(f"unknown transport {key!r}") from None
