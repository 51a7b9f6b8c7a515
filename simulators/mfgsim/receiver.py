"""Receiving the hub's webhooks: a small HTTP server that verifies every Standard Webhooks signature."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def verify_webhook(secret, body, headers):
    """The CloudEvent of a signed delivery, or ``WebhookVerificationError``.

    ``secret`` is the endpoint's ``whsec_…`` signing secret; ``headers`` must hold ``webhook-id``,
    ``webhook-timestamp`` (checked against a 5-minute tolerance) and ``webhook-signature``.
    """
    return Webhook(secret).verify(body, {key.lower(): value for key, value in headers.items()})


class WebhookReceiver:
    """Serves ``POST`` on 127.0.0.1:``port``; calls ``on_event(event, webhook_id)`` for each verified delivery.

    Answers 401 to a bad signature, 503 (with ``Retry-After``) while ``failing`` (counted in ``refused``),
    200 otherwise. ``on_event`` must be quick: queue the work, answer at once.
    """

    def __init__(self, port, secret, on_event, journal):
        self.secret = secret
        self.on_event = on_event
        self.journal = journal
        self.failing = False
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver._answer(body, dict(self.headers))
                payload = json.dumps({"ok": status == 200}).encode()
                self.send_response(status)
                if status == 503:
                    self.send_header("Retry-After", "2")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_args):
                pass  # the journal records every delivery

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def _answer(self, body, headers):
        webhook_id = headers.get("webhook-id") or headers.get("Webhook-Id")
        try:
            event = verify_webhook(self.secret, body, headers)
        except WebhookVerificationError as error:
            self.journal.write("rejected", webhook_id=webhook_id, status=401, error=str(error))
            return 401
        if self.failing:
            self.refused += 1
            self.journal.write(
                "received", webhook_id=webhook_id, status=503, type=event["type"], subject=event.get("subject")
            )
            return 503
        self.journal.write(
            "received", webhook_id=webhook_id, status=200, type=event["type"], subject=event.get("subject")
        )
        self.on_event(event, webhook_id)
        return 200
