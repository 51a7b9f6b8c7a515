"""RFC 3339 timestamps on the wire, naive UTC datetimes in Odoo."""

from datetime import datetime, timezone


def to_rfc3339(dt):
    if dt is None or dt is False:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt.replace(microsecond=0).isoformat() + "Z"


def parse_rfc3339(text):
    """Naive UTC datetime from an RFC 3339 date-time ('Z' or an offset is required)."""
    if not isinstance(text, str) or "T" not in text.upper():
        raise ValueError(f"{text!r} is not an RFC 3339 date-time")
    normalised = text.strip()
    if normalised[-1] in "zZ":
        normalised = normalised[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(normalised)
    except ValueError as error:
        raise ValueError(f"{text!r} is not an RFC 3339 date-time") from error
    if parsed.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone: add 'Z' or an offset")
    return parsed.astimezone(timezone.utc).replace(tzinfo=None)
