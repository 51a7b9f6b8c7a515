"""HTTP delivery of one webhook, over a pooled session per thread.

No ORM here: the dispatcher passes plain values in and gets a plain result back,
so that no database transaction is open while the receiver is being waited for.
"""

import threading
import time
from dataclasses import dataclass, field

import requests

_local = threading.local()


@dataclass
class DeliveryResult:
    status: int | None
    duration_ms: int
    body: str = ""
    error: str = ""
    headers: dict = field(default_factory=dict)


def session():
    """A keep-alive session per thread, so connections to a receiver are reused."""
    if getattr(_local, "session", None) is None:
        _local.session = requests.Session()
    return _local.session


def post(url, body, headers, timeout):
    started = time.perf_counter()
    try:
        response = session().post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.RequestException as error:
        return DeliveryResult(
            status=None,
            duration_ms=_elapsed_ms(started),
            error=f"{type(error).__name__}: {error}",
        )
    return DeliveryResult(
        status=response.status_code,
        duration_ms=_elapsed_ms(started),
        body=response.text,
        headers=dict(response.headers),
    )


def _elapsed_ms(started):
    return int((time.perf_counter() - started) * 1000)
