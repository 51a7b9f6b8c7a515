"""Posting events to the hub's inbound API: CloudEvents, idempotency keys, retries that honour Retry-After."""

import time
import uuid
from datetime import datetime, timezone

import requests

API = "/api/mfg/v1"
# 409: the same event is being applied by an earlier post (e.g. one whose answer timed out): ask again later.
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
BACKOFF_CAP = 15.0  # seconds


def utc_now():
    return datetime.now(timezone.utc)


def rfc3339(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def cloud_event(event_type, data, source, occurred_at=None, event_id=None):
    """A CloudEvents 1.0 envelope; its ``id`` is the idempotency key of every post of it."""
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": event_type,
        "time": rfc3339(occurred_at or utc_now()),
        "datacontenttype": "application/json",
        "data": data,
    }


class HubError(Exception):
    """The hub could not be reached, or kept answering 5xx/429 until the retries ran out."""


class HubClient:
    """One external system's view of the hub: its API key, its CloudEvents source.

    ``post`` sends one event with its id as ``Idempotency-Key``: retrying after a lost answer is
    safe, the hub answers the first outcome again (``Idempotent-Replayed: true``).
    """

    def __init__(self, base_url, api_key, source, max_attempts=10, backoff=0.5, timeout=120, batch_timeout=300):
        self.base_url = base_url.rstrip("/")
        self.source = source
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.timeout = timeout
        self.batch_timeout = batch_timeout  # a batch is applied event by event before the hub answers
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_key}"

    def event(self, event_type, data, occurred_at=None):
        return cloud_event(event_type, data, self.source, occurred_at)

    def post(self, event):
        """POST one event; returns the final ``requests.Response`` (2xx, or a 4xx the caller must handle)."""
        return self._send(
            f"{API}/events",
            event,
            {"Content-Type": "application/cloudevents+json", "Idempotency-Key": event["id"]},
            self.timeout,
        )

    def post_batch(self, events):
        """POST up to 500 events to ``/events/batch``; returns the per-event results (the 207 body)."""
        response = self._send(f"{API}/events/batch", events, {"Content-Type": "application/json"}, self.batch_timeout)
        if response.status_code != 207:
            raise HubError(f"batch refused: {response.status_code} {response.text[:300]}")
        return response.json()["results"]

    def _send(self, path, body, headers, timeout):
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self.session.post(self.base_url + path, json=body, headers=headers, timeout=timeout)
            except requests.RequestException as error:
                if attempt == self.max_attempts:
                    raise HubError(f"hub unreachable: {error}") from error
                time.sleep(self._delay(attempt, None))
                continue
            if response.status_code not in RETRY_STATUSES:
                return response
            if attempt == self.max_attempts:
                raise HubError(f"hub answered {response.status_code} {attempt} times")
            time.sleep(self._delay(attempt, response.headers.get("Retry-After")))
        raise AssertionError("unreachable")

    def _delay(self, attempt, retry_after):
        """The server's Retry-After (seconds) when given, else exponential backoff."""
        if retry_after:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                pass  # an HTTP date: fall back to our own backoff
        return min(BACKOFF_CAP, self.backoff * 2 ** (attempt - 1))
