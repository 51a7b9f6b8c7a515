"""RFC 3339 timestamps on the wire, naive UTC datetimes in Odoo."""

import re
from datetime import datetime, timedelta, timezone

# RFC 3339 section 5.6 'date-time' exactly: datetime.fromisoformat alone would also
# accept ISO 8601 forms that other parsers refuse (week dates, no seconds, basic format).
_RFC3339 = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[Tt]"
    r"(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})(?:\.(?P<fraction>\d+))?"
    r"(?:(?P<utc>[Zz])|(?P<sign>[+-])(?P<offset_hour>\d{2}):(?P<offset_minute>\d{2}))",
    re.ASCII,
)


def to_rfc3339(dt: datetime | None) -> str | None:
    """'YYYY-MM-DDTHH:MM:SSZ' (seconds precision); naive datetimes are UTC, as Odoo stores them."""
    if dt is None or dt is False:  # False: an empty Odoo field
        return None
    if not isinstance(dt, datetime):
        # A date would silently become '2026-11-22Z', which no parser accepts.
        raise TypeError(f"to_rfc3339 needs a datetime, not {type(dt).__name__}")
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt.replace(microsecond=0).isoformat() + "Z"


def parse_rfc3339(text: str) -> datetime:
    """Naive UTC datetime from an RFC 3339 date-time ('Z' or an offset is required)."""
    match = _RFC3339.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not an RFC 3339 date-time (e.g. '2026-11-22T10:00:00Z')")
    part = match.groupdict()
    try:
        offset = _utc_offset(part)
        local = datetime(
            int(part["year"]),
            int(part["month"]),
            int(part["day"]),
            int(part["hour"]),
            int(part["minute"]),
            int(part["second"]),
            int((part["fraction"] or "0")[:6].ljust(6, "0")),  # microseconds; finer digits are dropped
        )
        return local - offset
    except (ValueError, OverflowError) as error:
        raise ValueError(f"{text!r} is not a valid RFC 3339 date-time: {error}") from error


def _utc_offset(part: dict) -> timedelta:
    if part["utc"]:
        return timedelta(0)
    hours, minutes = int(part["offset_hour"]), int(part["offset_minute"])
    if hours > 23 or minutes > 59:
        raise ValueError("the UTC offset is out of range")
    offset = timedelta(hours=hours, minutes=minutes)
    return -offset if part["sign"] == "-" else offset
