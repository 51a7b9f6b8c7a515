"""Retry timing: exponential backoff with full jitter, Retry-After, circuit breaker."""

import random
from datetime import timedelta, timezone
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER = 24 * 3600
MAX_EXPONENT = 32


def full_jitter_delay(attempt, base, cap, rand=random.random):
    """Seconds to wait before retry number ``attempt`` (0 for the first retry):
    random(0, min(cap, base * 2^attempt))."""
    exponent = min(max(attempt, 0), MAX_EXPONENT)
    return rand() * min(cap, base * 2**exponent)


def parse_retry_after(value, now):
    """Seconds a receiver asked us to wait (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now
    return max(0.0, (when - now).total_seconds())


def classify_status(status):
    """'delivered' (2xx), 'retry' (408, 429, 5xx) or 'dead' (any other answer)."""
    if 200 <= status < 300:
        return "delivered"
    if status in (408, 429) or status >= 500:
        return "retry"
    return "dead"


def next_delay(attempts_done, base, cap, retry_after=None, rand=random.random):
    """Seconds until the next attempt after ``attempts_done`` failed ones."""
    if retry_after is not None:
        return min(retry_after, MAX_RETRY_AFTER)
    return full_jitter_delay(attempts_done - 1, base, cap, rand)


def circuit_after_failure(consecutive_failures, threshold, cooldown, now):
    """When the circuit opens, the time it stays open until; None while it stays closed.
    The cooldown doubles (up to 64x) while the endpoint keeps failing."""
    if consecutive_failures < threshold:
        return None
    return now + timedelta(seconds=cooldown * 2 ** min(consecutive_failures - threshold, 6))


