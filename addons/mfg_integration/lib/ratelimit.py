"""Fixed-window rate limiting: pure helpers (the counter itself lives in PostgreSQL)."""

from datetime import datetime, timedelta

WINDOW_SECONDS = 60


def window_start(now, window_seconds=WINDOW_SECONDS):
    """Start of the fixed window ``now`` (naive UTC datetime) falls in."""
    epoch = datetime(1970, 1, 1)
    seconds = int((now - epoch).total_seconds())
    return epoch + timedelta(seconds=seconds - seconds % window_seconds)


def retry_after(now, window_seconds=WINDOW_SECONDS):
    """Whole seconds until the next window opens (at least 1), for ``Retry-After``."""
    end = window_start(now, window_seconds) + timedelta(seconds=window_seconds)
    remaining = (end - now).total_seconds()
    return max(1, int(remaining + 0.999))


def is_over(count, limit):
    """True when the ``count``-th request of a window exceeds ``limit`` (0 means no limit)."""
    return bool(limit) and count > limit
