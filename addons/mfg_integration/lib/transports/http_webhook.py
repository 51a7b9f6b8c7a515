"""HTTP webhook transport: a signed CloudEvent POSTed per Standard Webhooks.

Owns what is HTTP: the signature headers, the outbound address policy (checked on the
address actually connected to, after DNS resolution; redirects are never followed),
the classification of status codes, Retry-After, and a response read as a stream with
a size cap and an overall deadline, so that a hostile receiver can neither exhaust
memory nor hold a dispatcher thread. Environment proxies and .netrc are ignored.

urllib3 is called directly (requests is a layer over it): per message, requests' session
machinery cost more CPU than the rest of the send (0.40 vs 0.15 ms), in the dispatcher's
one process where every send shares one interpreter lock.
"""

import socket
import threading
import time
from datetime import datetime, timezone

from urllib3 import PoolManager, Timeout
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError, NameResolutionError

from .. import backoff, cloudevents, signing
from ..netpolicy import AddressPolicy
from ..transport import DEAD, DELIVERED, RETRY, Transport, Verdict, register

USER_AGENT = "odoo-mfg-integration/18.0"
MAX_RESPONSE_BYTES = 64 * 1024  # kept of a receiver's answer; the rest is not read
CHUNK = 8192

_local = threading.local()


class AddressRefused(Exception):
    """Every address the host name resolves to is refused by the outbound address policy."""


class _CheckedConnection:
    """Connects only to a resolved address the policy allows (no second lookup to race with)."""

    address_policy = AddressPolicy()

    def _new_conn(self):
        host = self._dns_host
        try:
            infos = socket.getaddrinfo(host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        refusals = {address: self.address_policy.refusal(address) for address in addresses}
        allowed = [address for address, refusal in refusals.items() if refusal is None]
        if not allowed:
            raise AddressRefused(f"{self.host}: " + "; ".join(refusals.values()))
        self._dns_host = allowed[0]
        try:
            return super()._new_conn()
        finally:
            self._dns_host = host


def _checked_pool_manager(address_policy):
    checks = {"address_policy": address_policy}
    http = type("CheckedHTTPConnection", (_CheckedConnection, HTTPConnection), checks)
    https = type("CheckedHTTPSConnection", (_CheckedConnection, HTTPSConnection), checks)
    manager = PoolManager(maxsize=16)
    manager.pool_classes_by_scheme = {
        "http": type("CheckedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
        "https": type("CheckedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
    }
    return manager


def pool_manager(address_policy):
    """Keep-alive connection pools per thread and address policy: a connection opened under one
    company's policy is never reused for another's."""
    managers = getattr(_local, "managers", None)
    if managers is None:
        managers = _local.managers = {}
    if address_policy not in managers:
        managers[address_policy] = _checked_pool_manager(address_policy)
    return managers[address_policy]


def classify_status(status):
    """DELIVERED (2xx), RETRY (408, 429, 5xx) or DEAD (1xx, 3xx, other 4xx: retrying will not help)."""
    if 200 <= status < 300:
        return DELIVERED
    if status in (408, 429) or 500 <= status < 600:
        return RETRY
    return DEAD


@register
class HttpWebhook(Transport):
    key = "http_webhook"
    schemes = ("http", "https")
    endpoint_fields = ("url",)

    def send(self, delivery):
        policy = delivery.endpoint
        started = time.monotonic()
        deadline = started + policy.timeout
        try:
            response = pool_manager(policy.address_policy or AddressPolicy()).urlopen(
                "POST",
                policy.settings["url"],
                body=delivery.body,
                headers=signed_headers(delivery),
                timeout=Timeout(connect=policy.timeout, read=policy.timeout),
                redirect=False,
                retries=False,
                preload_content=False,
            )
        except AddressRefused as error:
            reason = f"Refused by the outbound address policy: {error}"
            return Verdict(DEAD, _elapsed_ms(started), response=reason, reason=reason)
        except (HTTPError, OSError, ValueError) as error:  # ValueError: an address urllib3 cannot parse
            reason = f"{type(error).__name__}: {error}"
            return Verdict(RETRY, _elapsed_ms(started), response=reason, reason=reason, reachable=False)
        body = _read_capped(response, deadline)
        outcome = classify_status(response.status)
        retry_after = None
        if outcome == RETRY:
            # urllib3's headers are case-insensitive: "retry-after" counts as well.
            retry_after = backoff.parse_retry_after(response.headers.get("Retry-After"), datetime.now(timezone.utc))
        return Verdict(
            outcome,
            _elapsed_ms(started),
            status=response.status,
            response=body,
            reason="" if outcome == DELIVERED else f"HTTP {response.status}: {body}",
            retry_after=retry_after,
        )


def signed_headers(delivery):
    """Standard Webhooks headers, signed right before sending: a long batch must not send stale timestamps."""
    headers = {"Content-Type": cloudevents.CONTENT_TYPE, "User-Agent": USER_AGENT}
    secrets = delivery.endpoint.secrets
    headers.update(signing.webhook_headers(secrets, delivery.event_id, int(time.time()), delivery.body))
    return headers


def _read_capped(response, deadline):
    """At most MAX_RESPONSE_BYTES of the answer, read until ``deadline``; the connection goes back to
    the pool only when the whole answer was read (else it is closed: the rest stays unread)."""
    chunks, size, whole = [], 0, False
    try:
        for chunk in response.stream(CHUNK):
            chunks.append(chunk)
            size += len(chunk)
            if size >= MAX_RESPONSE_BYTES or time.monotonic() > deadline:
                break
        else:
            whole = True
    except (HTTPError, OSError) as error:
        return f"(answer not read: {type(error).__name__})"
    finally:
        if whole:
            response.release_conn()
        else:
            response.close()
    return b"".join(chunks)[:MAX_RESPONSE_BYTES].decode("utf-8", errors="replace")


def _elapsed_ms(started):
    return int((time.monotonic() - started) * 1000)
