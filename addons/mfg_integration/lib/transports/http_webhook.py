"""HTTP webhook transport: a signed CloudEvent POSTed per Standard Webhooks.

Owns what is HTTP: the signature headers, the outbound address policy (checked on the
address actually connected to, after DNS resolution; redirects are never followed),
the classification of status codes, Retry-After, and a response read as a stream with
a size cap and an overall deadline, so that a hostile receiver can neither exhaust
memory nor hold a dispatcher thread. Environment proxies and .netrc are ignored.
"""

import socket
import threading
import time
from datetime import datetime, timezone

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError

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


class _CheckedAdapter(HTTPAdapter):
    def __init__(self, address_policy):
        self._address_policy = address_policy  # read by init_poolmanager, called by HTTPAdapter.__init__
        super().__init__(pool_maxsize=16)

    def init_poolmanager(self, *args, **kwargs):
        result = super().init_poolmanager(*args, **kwargs)
        checks = {"address_policy": self._address_policy}
        http = type("CheckedHTTPConnection", (_CheckedConnection, HTTPConnection), checks)
        https = type("CheckedHTTPSConnection", (_CheckedConnection, HTTPSConnection), checks)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("CheckedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("CheckedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
        }
        return result


def session(address_policy):
    """A keep-alive session per thread and address policy: a connection opened under one
    company's policy is never reused for another's."""
    sessions = getattr(_local, "sessions", None)
    if sessions is None:
        sessions = _local.sessions = {}
    if address_policy not in sessions:
        checked = requests.Session()
        checked.trust_env = False  # no proxy from the environment, no .netrc credentials
        adapter = _CheckedAdapter(address_policy)
        checked.mount("http://", adapter)
        checked.mount("https://", adapter)
        sessions[address_policy] = checked
    return sessions[address_policy]


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
            response = session(policy.address_policy or AddressPolicy()).post(
                policy.settings["url"],
                data=delivery.body,
                headers=signed_headers(delivery),
                timeout=policy.timeout,
                allow_redirects=False,
                stream=True,
            )
        except AddressRefused as error:
            reason = f"Refused by the outbound address policy: {error}"
            return Verdict(DEAD, _elapsed_ms(started), response=reason, reason=reason)
        except requests.RequestException as error:
            reason = f"{type(error).__name__}: {error}"
            return Verdict(RETRY, _elapsed_ms(started), response=reason, reason=reason, reachable=False)
        try:
            body = _read_capped(response, deadline)
        except requests.RequestException as error:
            body = f"(answer not read: {type(error).__name__})"
        finally:
            response.close()
        outcome = classify_status(response.status_code)
        retry_after = None
        if outcome == RETRY:
            # requests' headers are case-insensitive: "retry-after" counts as well.
            retry_after = backoff.parse_retry_after(response.headers.get("Retry-After"), datetime.now(timezone.utc))
        return Verdict(
            outcome,
            _elapsed_ms(started),
            status=response.status_code,
            response=body,
            reason="" if outcome == DELIVERED else f"HTTP {response.status_code}: {body}",
            retry_after=retry_after,
        )


def signed_headers(delivery):
    """Standard Webhooks headers, signed right before sending: a long batch must not send stale timestamps."""
    headers = {"Content-Type": cloudevents.CONTENT_TYPE, "User-Agent": USER_AGENT}
    secrets = delivery.endpoint.secrets
    headers.update(signing.webhook_headers(secrets, delivery.event_id, int(time.time()), delivery.body))
    return headers


def _read_capped(response, deadline):
    chunks, size = [], 0
    for chunk in response.iter_content(CHUNK):
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_RESPONSE_BYTES or time.monotonic() > deadline:
            break
    return b"".join(chunks)[:MAX_RESPONSE_BYTES].decode(response.encoding or "utf-8", errors="replace")


def _elapsed_ms(started):
    return int((time.monotonic() - started) * 1000)
