"""The HTTP webhook transport against real sockets on this machine: signing, status
classification, Retry-After, the address policy and the capped, streamed answer."""

import http.server
import threading
import time

import pytest
from mfg_integration_lib import delivery, netpolicy, signing, transport
from mfg_integration_lib.transports import http_webhook

from simulators.mfgsim.scripted_receiver import Answer, Receiver

BODY = b'{"specversion":"1.0","id":"evt-1","data":{}}'
LOOPBACK = netpolicy.AddressPolicy(netpolicy.parse_networks("127.0.0.0/8"))


@pytest.fixture
def server():
    """A receiver answering every request with ``status``, ``headers`` and ``body``."""
    receivers = []

    def make(status=200, headers=None, body=b"ok"):
        receivers.append(Receiver(Answer(status, headers or {}, body=body)).start())
        return receivers[-1]

    yield make
    for receiver in receivers:
        receiver.stop()


def send(url, policy=LOOPBACK, secrets=None, timeout=5.0):
    endpoint = delivery.EndpointPolicy(
        id=1,
        transport="http_webhook",
        timeout=timeout,
        max_attempts=5,
        backoff_base=1.0,
        backoff_cap=10.0,
        max_parallel=1,
        secrets=secrets or [signing.generate_secret()],
        failing=False,
        settings={"url": url},
        address_policy=policy,
    )
    item = delivery.Delivery(
        message_id=7, event_id="evt-1", company_id=1, attempt_count=0, body=BODY, endpoint=endpoint
    )
    return transport.get("http_webhook").send(item)


def test_a_signed_post_verifies_with_every_current_secret(server):
    receiver = server()
    old, new = signing.generate_secret(), signing.generate_secret()
    before = int(time.time())
    verdict = send(receiver.url, secrets=[new, old])
    assert (verdict.outcome, verdict.status, verdict.response) == (transport.DELIVERED, 200, "ok")
    [received] = receiver.received
    headers = received.headers
    assert received.body == BODY
    assert headers["Content-Type"] == "application/cloudevents+json"
    assert headers["User-Agent"] == http_webhook.USER_AGENT
    assert headers["webhook-id"] == "evt-1"
    assert before <= int(headers["webhook-timestamp"]) <= int(time.time()), "signed at send time"
    lowered = {name.lower(): value for name, value in headers.items()}
    signing.verify([old], lowered, BODY)
    signing.verify([new], lowered, BODY)


@pytest.mark.parametrize("name", ["Retry-After", "retry-after", "RETRY-AFTER"])
def test_retry_after_is_read_whatever_its_case(server, name):
    verdict = send(server(status=429, headers={name: "120"}).url)
    assert (verdict.outcome, verdict.retry_after, verdict.reachable) == (transport.RETRY, 120.0, True)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "delivered"), (204, "delivered"), (299, "delivered"),
        (301, "dead"), (307, "dead"), (400, "dead"), (404, "dead"), (422, "dead"),
        (408, "retry"), (429, "retry"), (500, "retry"), (503, "retry"), (599, "retry"),
    ],
)  # fmt: skip
def test_status_classification(status, outcome):
    assert http_webhook.classify_status(status) == outcome


def test_redirects_are_not_followed(server):
    inner = server()
    verdict = send(server(status=302, headers={"Location": inner.url}).url)
    assert (verdict.outcome, verdict.status) == (transport.DEAD, 302)
    assert inner.received == []


def test_a_refused_connection_is_a_retry_without_an_answer():
    verdict = send("http://127.0.0.1:9/hook")
    assert (verdict.outcome, verdict.status, verdict.reachable) == (transport.RETRY, 0, False)
    assert "Connection refused" in verdict.reason


def test_loopback_is_refused_after_resolution_unless_allowed(server):
    receiver = server()
    port = receiver.url.split(":")[2].split("/")[0]
    for url in (receiver.url, f"http://localhost:{port}/hook"):
        verdict = send(url, policy=netpolicy.AddressPolicy())
        assert verdict.outcome == transport.DEAD
        assert "outbound address policy" in verdict.reason and "loopback" in verdict.reason
    assert receiver.received == [], "nothing was sent"


def test_cloud_metadata_address_is_refused_without_connecting():
    verdict = send("http://169.254.169.254/latest/meta-data/", policy=LOOPBACK)
    assert verdict.outcome == transport.DEAD
    assert "link-local" in verdict.reason


def test_a_huge_answer_is_read_only_up_to_the_cap(server):
    verdict = send(server(body=b"x" * 65536 * 160).url)  # a 10 MiB answer
    assert verdict.outcome == transport.DELIVERED
    assert len(verdict.response) == http_webhook.MAX_RESPONSE_BYTES


def test_environment_proxies_are_ignored(server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    receiver = server()
    assert send(receiver.url).outcome == transport.DELIVERED
    assert len(receiver.received) == 1


class IdleClosingHandler(http.server.BaseHTTPRequestHandler):
    """Keep-alive, but closes a connection idle for 0.2 s (as receivers behind proxies do)."""

    protocol_version = "HTTP/1.1"
    timeout = 0.2
    opened = 0

    def setup(self):
        super().setup()
        type(self).opened += 1

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_keep_alive_connection_the_receiver_closed_is_reopened_not_failed():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), IdleClosingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        outcomes = [send(url).outcome, send(url).outcome]  # the same connection, kept alive
        time.sleep(0.5)  # the receiver closes it meanwhile
        outcomes.append(send(url).outcome)
    finally:
        server.shutdown()
        server.server_close()
    assert outcomes == [transport.DELIVERED] * 3
    assert IdleClosingHandler.opened == 2


def test_an_unknown_transport_is_refused_clearly():
    with pytest.raises(ValueError, match="unknown transport 'mqtt'"):
        transport.get("mqtt")
