"""HTTP receivers on 127.0.0.1 for tests, benchmarks and the simulators: ``HttpReceiver`` serves
POST and answers what its ``respond`` decides; ``Receiver`` records what it gets and answers from a
script (status, headers, delay), like an MES or a WMS would. No Odoo import."""

import json
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    at: float

    def json(self):
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    body: str | bytes = '{"ok": true}'


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that goes away (killed, timed out, done reading a capped answer) is normal for a receiver.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class HttpReceiver:
    """Serves POST on 127.0.0.1:``port`` (0: a free port, kept across a stop and a start) and answers
    each request with what ``respond(received)`` returns; subclasses decide."""

    def __init__(self, port=0):
        self.lock = threading.Lock()
        self.port = port
        self.server = None
        self.in_flight = 0
        self.max_in_flight = 0

    def respond(self, received):
        """The ``Answer`` to ``received``; called from the server's threads."""
        raise NotImplementedError

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes: without TCP_NODELAY each answer
            # waits ~40 ms for the client's delayed ACK, like no real receiver does.
            disable_nagle_algorithm = True

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = receiver._answer(Received(self.path, dict(self.headers), body, time.time()))
                data = answer.body.encode() if isinstance(answer.body, str) else answer.body
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        """Close the port: the receiver is down, connections are refused."""
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self):
        return f"{self.base_url}/hook"

    def _answer(self, received):
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            answer = self.respond(received)
            if answer.delay:
                time.sleep(answer.delay)
            return answer
        finally:
            with self.lock:
                self.in_flight -= 1


class Receiver(HttpReceiver):
    """``answers`` are used in order, then ``default`` for every further request."""

    def __init__(self, default=None, port=0):
        super().__init__(port)
        self.default = default or Answer()
        self.answers = deque()
        self.received = []

    def answer(self, *answers):
        with self.lock:
            self.answers.extend(answers)
        return self

    def respond(self, received):
        with self.lock:
            self.received.append(received)
            return self.answers.popleft() if self.answers else self.default

    def events(self):
        with self.lock:
            return [item.json() for item in self.received]

    def event_ids(self):
        return [event["id"] for event in self.events()]
