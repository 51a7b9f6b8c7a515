import math
import random
from datetime import datetime, timedelta, timezone

import pytest
from mfg_integration_lib import backoff

NOW = datetime(2026, 11, 22, 10, 0, 0)  # naive UTC, as Odoo stores it


def always(value):
    return lambda: value


@pytest.mark.parametrize(
    ("attempt", "ceiling"),
    [(0, 10), (1, 20), (3, 80), (8, 2560), (9, 3600), (20, 3600), (10_000, 3600), (-1, 10)],
)
def test_full_jitter_ceiling_is_the_exponential_bounded_by_the_cap(attempt, ceiling):
    assert backoff.full_jitter_delay(attempt, 10, 3600, rand=always(1.0)) == ceiling
    assert backoff.full_jitter_delay(attempt, 10, 3600, rand=always(0.5)) == ceiling / 2
    assert backoff.full_jitter_delay(attempt, 10, 3600, rand=always(0.0)) == 0


def test_full_jitter_does_not_overflow_for_absurd_inputs():
    delay = backoff.full_jitter_delay(10**9, 1e300, 86400, rand=always(1.0))
    assert delay == 86400 and math.isfinite(delay)


def test_full_jitter_with_the_default_random_stays_within_bounds():
    random.seed(1234)
    delays = [backoff.full_jitter_delay(2, 10, 3600) for _ in range(500)]
    assert all(0 <= delay < 40 for delay in delays)
    assert max(delays) > 30 and min(delays) < 10, "spread over the whole window, not clustered"


def test_next_delay_first_retry_uses_attempt_zero():
    assert backoff.next_delay(1, 10, 3600, rand=always(1.0)) == 10
    assert backoff.next_delay(2, 10, 3600, rand=always(1.0)) == 20
    assert backoff.next_delay(5, 10, 3600, rand=always(1.0)) == 160
    assert backoff.next_delay(50, 10, 3600, rand=always(1.0)) == 3600


@pytest.mark.parametrize(
    ("retry_after", "delay"),
    [(120.0, 120.0), (0.0, 0.0), (86400.0, 86400.0), (86401.0, 86400.0), (1e12, 86400.0), (-5.0, 0.0)],
)
def test_next_delay_prefers_retry_after_up_to_a_day(retry_after, delay):
    # rand=1 would give 20: proves the receiver's wish wins over our backoff, even when shorter.
    assert backoff.next_delay(2, 10, 3600, retry_after=retry_after, rand=always(1.0)) == delay
    assert backoff.MAX_RETRY_AFTER == 86400


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("Sun, 22 Nov 2026 10:02:00 GMT", 120.0),  # IMF-fixdate
        ("Sunday, 22-Nov-26 10:02:00 GMT", 120.0),  # obsolete RFC 850 form, still allowed by RFC 9110
        ("Sun, 22 Nov 2026 09:00:00 GMT", 0.0),  # in the past: retry now
        (None, None),
        ("", None),
        ("soon", None),
        ("1.5", None),
        ("-5", None),
        ("\u0661\u0662", None),  # Arabic-Indic digits are digits for str.isdigit, not for HTTP
        ("Sun, 31 Nov 2026 10:02:00 GMT", None),
    ],
)
def test_retry_after_as_seconds_or_http_date(value, seconds):
    assert backoff.parse_retry_after(value, NOW) == seconds


def test_retry_after_with_an_aware_now():
    aware = datetime(2026, 11, 22, 11, 0, 0, tzinfo=timezone(timedelta(hours=1)))  # the same instant as NOW
    assert backoff.parse_retry_after("Sun, 22 Nov 2026 10:00:30 GMT", aware) == 30.0


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (100, "dead"), (199, "dead"),
        (200, "delivered"), (201, "delivered"), (202, "delivered"), (204, "delivered"), (299, "delivered"),
        (300, "dead"), (301, "dead"), (304, "dead"), (307, "dead"),
        (400, "dead"), (401, "dead"), (403, "dead"), (404, "dead"), (409, "dead"), (410, "dead"), (422, "dead"),
        (408, "retry"), (429, "retry"),
        (500, "retry"), (502, "retry"), (503, "retry"), (504, "retry"), (599, "retry"),
    ],
)
def test_classify_status(status, outcome):
    assert backoff.classify_status(status) == outcome


@pytest.mark.parametrize(
    ("failures", "open_seconds"),
    [(0, None), (4, None), (5, 60), (6, 120), (7, 240), (11, 60 * 64), (12, 60 * 64), (500, 60 * 64)],
)
def test_circuit_opens_at_the_threshold_and_backs_off_while_failing(failures, open_seconds):
    expected = None if open_seconds is None else NOW + timedelta(seconds=open_seconds)
    assert backoff.circuit_after_failure(failures, 5, 60, NOW) == expected


def test_circuit_keeps_the_time_zone_of_now():
    aware = NOW.replace(tzinfo=timezone.utc)
    assert backoff.circuit_after_failure(1, 1, 30, aware) == aware + timedelta(seconds=30)
