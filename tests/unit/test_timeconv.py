from datetime import date, datetime, timedelta, timezone

import pytest
from mfg_integration_lib import timeconv


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2026, 11, 22, 10, 0, 0), "2026-11-22T10:00:00Z"),
        (datetime(2026, 11, 22, 10, 0, 0, 999999), "2026-11-22T10:00:00Z"),  # seconds precision, not rounded up
        (datetime(2026, 11, 22, 11, 0, 0, tzinfo=timezone(timedelta(hours=1))), "2026-11-22T10:00:00Z"),
        (datetime(2026, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-1))), "2027-01-01T00:30:00Z"),
        (datetime(1, 1, 1), "0001-01-01T00:00:00Z"),
        (None, None),
        (False, None),  # an empty Odoo Datetime field
    ],
)
def test_to_rfc3339(value, text):
    assert timeconv.to_rfc3339(value) == text


def test_to_rfc3339_refuses_a_date():
    with pytest.raises(TypeError, match="date"):
        timeconv.to_rfc3339(date(2026, 11, 22))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2026-11-22T10:00:00Z", datetime(2026, 11, 22, 10, 0, 0)),
        ("2026-11-22t10:00:00z", datetime(2026, 11, 22, 10, 0, 0)),
        ("2026-11-22T11:00:00+01:00", datetime(2026, 11, 22, 10, 0, 0)),
        ("2026-11-22T04:30:00-05:30", datetime(2026, 11, 22, 10, 0, 0)),
        ("2026-11-22T10:00:00-00:00", datetime(2026, 11, 22, 10, 0, 0)),
        ("2027-01-01T00:30:00+01:00", datetime(2026, 12, 31, 23, 30, 0)),
        ("2026-11-22T10:00:00.5Z", datetime(2026, 11, 22, 10, 0, 0, 500000)),
        ("2026-11-22T10:00:00.123456789Z", datetime(2026, 11, 22, 10, 0, 0, 123456)),
        ("2024-02-29T00:00:00Z", datetime(2024, 2, 29)),
    ],
)
def test_parse_rfc3339_gives_naive_utc(text, value):
    parsed = timeconv.parse_rfc3339(text)
    assert parsed == value
    assert parsed.tzinfo is None


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-22",  # a date is not a date-time
        "2026-11-22T10:00:00",  # no time zone: ambiguous
        "2026-11-22 10:00:00Z",
        "2026-11-22T10:00Z",  # no seconds
        "2026-11-22T10Z",
        "20261122T100000Z",  # ISO 8601 basic format
        "2026-W47-1T10:00:00Z",  # ISO week date
        "2026-11-22T10:00:00+0100",
        "2026-11-22T10:00:00+01",
        "2026-11-22T10:00:00.Z",
        "2026-11-22T10:00:00,5Z",
        "2026-02-30T10:00:00Z",
        "2025-02-29T10:00:00Z",
        "2026-13-01T10:00:00Z",
        "2026-11-22T24:00:00Z",
        "2026-11-22T10:60:00Z",
        "2026-11-22T10:00:00+24:00",
        "2026-11-22T10:00:00+01:60",
        "0001-01-01T00:00:00+01:00",  # before datetime.min once in UTC
        "\uff12\uff10\uff12\uff16-11-22T10:00:00Z",  # full-width digits
        " 2026-11-22T10:00:00Z",
        "2026-11-22T10:00:00Z\n",
        "tomorrow",
        "",
        5,
        None,
    ],
)
def test_parse_rfc3339_refuses_everything_else_with_a_clear_message(text):
    with pytest.raises(ValueError, match="RFC 3339 date-time"):
        timeconv.parse_rfc3339(text)


def test_round_trip():
    value = datetime(2026, 11, 22, 10, 11, 12)
    assert timeconv.parse_rfc3339(timeconv.to_rfc3339(value)) == value
