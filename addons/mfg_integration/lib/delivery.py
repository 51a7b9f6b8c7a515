"""What the dispatcher sends: plain values read at claim time, signed at send time."""

import time
from dataclasses import dataclass

from . import cloudevents, signing

USER_AGENT = "odoo-mfg-integration/18.0"


@dataclass
class Delivery:
    """One claimed message and the facts needed to send it and record the outcome,
    read at claim time so that no transaction is open during the network call."""

    message_id: int
    event_id: str
    company_id: int
    created_at: object
    attempt_count: int
    body: bytes
    endpoint: "EndpointPolicy"

    def signed_headers(self):
        # Signed right before sending: a long batch must not send stale timestamps.
        headers = {"Content-Type": cloudevents.CONTENT_TYPE, "User-Agent": USER_AGENT}
        headers.update(signing.webhook_headers(self.endpoint.secrets, self.event_id, int(time.time()), self.body))
        return headers


@dataclass
class EndpointPolicy:
    """An endpoint's address, secrets and retry policy, read once per claimed batch."""

    id: int
    url: str
    timeout: float
    max_attempts: int
    backoff_base: float
    backoff_cap: float
    max_parallel: int
    secrets: list
    failing: bool  # had failures or a half-open circuit when claimed

    @property
    def parallel_limit(self):
        # A failing endpoint gets one probe at a time, so that one result decides for the rest.
        return 1 if self.failing else self.max_parallel
