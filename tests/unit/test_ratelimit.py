"""Fixed rate-limit windows of the inbound API."""

from datetime import datetime

from mfg_integration_lib import ratelimit


def test_fixed_windows():
    now = datetime(2024, 5, 1, 10, 0, 42, 500000)
    assert ratelimit.window_start(now) == datetime(2024, 5, 1, 10, 0)
    assert ratelimit.retry_after(now) == 18
    assert ratelimit.retry_after(datetime(2024, 5, 1, 10, 0, 59, 999000)) == 1
    assert ratelimit.retry_after(datetime(2024, 5, 1, 10, 1)) == 60


def test_limits():
    assert not ratelimit.is_over(600, 600)
    assert ratelimit.is_over(601, 600)
    assert not ratelimit.is_over(10_000, 0), "0 means no limit"


def test_windows_of_other_sizes():
    now = datetime(2024, 5, 1, 10, 7, 30)
    assert ratelimit.window_start(now, 300) == datetime(2024, 5, 1, 10, 5)
    assert ratelimit.retry_after(now, 300) == 150
    assert ratelimit.window_start(datetime(2024, 5, 1, 23, 59, 59), 3600) == datetime(2024, 5, 1, 23, 0)
