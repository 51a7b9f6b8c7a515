"""Retry timing: exponential backoff with full jitter, and the receiver's Retry-After."""

import random
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER = 24 * 3600  # a receiver cannot park a message for longer than a day
MAX_EXPONENT = 32  # 2**32 * base is beyond any sensible cap; avoids huge ints / float overflow


def full_jitter_delay(attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before a retry: random(0, min(cap, base * 2^attempt)).

    ``attempt`` is 0-based: the first retry (after the 1st failure) uses attempt=0, the
    retry after the 2nd failure attempt=1, and so on. Full jitter spreads the retries of
    many messages that failed together, so they do not hit the receiver in waves.
    """
    exponent = min(max(attempt, 0), MAX_EXPONENT)
    return rand() * min(cap, base * 2**exponent)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a receiver asked us to wait (delta-seconds or HTTP-date), or None when absent or invalid.

    ``now`` may be naive (taken as UTC, as Odoo stores it) or aware."""
    if not value or not isinstance(value, str):
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, (_as_utc(when) - _as_utc(now)).total_seconds())


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def next_delay(
    attempts_done: int,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds until the next attempt after ``attempts_done`` (>= 1) failed ones.

    The receiver's Retry-After wins over our backoff, bounded by MAX_RETRY_AFTER."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), MAX_RETRY_AFTER)
    return full_jitter_delay(attempts_done - 1, base, cap, rand)
