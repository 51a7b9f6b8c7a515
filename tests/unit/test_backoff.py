from datetime import datetime, timedelta

import pytest
from mfg_integration_lib import backoff

NOW = datetime(2026, 11, 22, 10, 0, 0)


def test_full_jitter_is_bounded_by_the_exponential_and_the_cap():
    assert backoff.full_jitter_delay(0, 10, 3600, rand=lambda: 1.0) == 10
    assert backoff.full_jitter_delay(3, 10, 3600, rand=lambda: 1.0) == 80
    assert backoff.full_jitter_delay(20, 10, 3600, rand=lambda: 1.0) == 3600
    assert backoff.full_jitter_delay(10_000, 10, 3600, rand=lambda: 0.5) == 1800
    assert backoff.full_jitter_delay(2, 10, 3600, rand=lambda: 0.0) == 0


def test_next_delay_uses_the_attempts_done_and_prefers_retry_after():
    assert backoff.next_delay(1, 10, 3600, rand=lambda: 1.0) == 10  # first retry
    assert backoff.next_delay(2, 10, 3600, rand=lambda: 1.0) == 20
    assert backoff.next_delay(2, 10, 3600, retry_after=120.0) == 120.0
    assert backoff.next_delay(2, 10, 3600, retry_after=10**9) == backoff.MAX_RETRY_AFTER


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("120", 120.0), ("Sun, 22 Nov 2026 10:02:00 GMT", 120.0), ("Sun, 22 Nov 2026 09:00:00 GMT", 0.0),
     (None, None), ("", None), ("soon", None)],
)
def test_retry_after_as_seconds_or_http_date(value, seconds):
    assert backoff.parse_retry_after(value, NOW) == seconds


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, "delivered"), (204, "delivered"), (408, "retry"), (429, "retry"), (500, "retry"), (503, "retry"),
     (301, "dead"), (400, "dead"), (401, "dead"), (404, "dead"), (422, "dead")],
)
def test_classify_status(status, outcome):
    assert backoff.classify_status(status) == outcome


def test_circuit_opens_at_the_threshold_and_backs_off_while_failing():
    assert backoff.circuit_after_failure(4, 5, 60, NOW) is None
    assert backoff.circuit_after_failure(5, 5, 60, NOW) == NOW + timedelta(seconds=60)
    assert backoff.circuit_after_failure(7, 5, 60, NOW) == NOW + timedelta(seconds=240)
    assert backoff.circuit_after_failure(50, 5, 60, NOW) == NOW + timedelta(seconds=60 * 64)
