"""Source timestamps to UTC: naive stamps are plant-local time, stamps with an offset are converted.

An offset in the source is a fact and is never relabelled with the plant's zone. Naive stamps that fall in
the autumn DST overlap take the first (summer-time) reading, and those in the spring gap are read with the
offset in force before the change (zoneinfo's fold=0): a plant export cannot tell us more.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo


def to_utc(value: Any, timestamp_format: str | None, zone: ZoneInfo) -> datetime:
    """A UTC, timezone-aware datetime (microseconds) from a source value; raises ValueError if unparsable."""
    if isinstance(value, datetime):  # Parquet and pandas already hold datetimes (pd.Timestamp included)
        stamp = value
    elif isinstance(value, date):
        raise ValueError("a date without a time of day")
    else:
        text = str(value).strip()
        if timestamp_format:
            stamp = datetime.strptime(text, timestamp_format)
        else:
            stamp = datetime.fromisoformat(text)
    if stamp.tzinfo is None or stamp.utcoffset() is None:
        stamp = stamp.replace(tzinfo=zone)
    stamp = stamp.astimezone(UTC)
    # pd.Timestamp may carry nanoseconds; the contract is microseconds
    return datetime(*stamp.timetuple()[:6], stamp.microsecond, tzinfo=UTC)


def describe_format(timestamp_format: str | None) -> str:
    return f"format {timestamp_format!r}" if timestamp_format else "ISO 8601"
