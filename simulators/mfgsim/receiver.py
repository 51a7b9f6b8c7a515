"""Receiving the hub's webhooks: a small HTTP server that verifies every Standard Webhooks signature."""

import json

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from .scripted_receiver import Answer, HttpReceiver

REFUSED = Answer(503, {"Retry-After": "2"}, body=json.dumps({"ok": False}))
REJECTED = Answer(401, body=json.dumps({"ok": False}))


def verify_webhook(secret, body, headers):
    """The CloudEvent of a signed delivery, or ``WebhookVerificationError``.

    ``secret`` is the endpoint's ``whsec_…`` signing secret; ``headers`` must hold ``webhook-id``,
    ``webhook-timestamp`` (checked against a 5-minute tolerance) and ``webhook-signature``.
    """
    return Webhook(secret).verify(body, {key.lower(): value for key, value in headers.items()})


class WebhookReceiver(HttpReceiver):
    """Serves ``POST`` on 127.0.0.1:``port``; calls ``on_event(event, webhook_id)`` for each verified delivery.

    Answers 401 to a bad signature, 503 (with ``Retry-After``) while ``failing`` (counted in ``refused``),
    200 otherwise. ``on_event`` must be quick: queue the work, answer at once.
    """

    def __init__(self, port, secret, on_event, journal):
        super().__init__(port)
        self.secret = secret
        self.on_event = on_event
        self.journal = journal
        self.failing = False
        self.refused = 0

    def respond(self, received):
        headers = {key.lower(): value for key, value in received.headers.items()}
        webhook_id = headers.get("webhook-id")
        try:
            event = verify_webhook(self.secret, received.body, headers)
        except WebhookVerificationError as error:
            self.journal.write("rejected", webhook_id=webhook_id, status=401, error=str(error))
            return REJECTED
        if self.failing:
            self.refused += 1
            self.journal.write(
                "received", webhook_id=webhook_id, status=503, type=event["type"], subject=event.get("subject")
            )
            return REFUSED
        self.journal.write(
            "received", webhook_id=webhook_id, status=200, type=event["type"], subject=event.get("subject")
        )
        self.on_event(event, webhook_id)
        return Answer()
