"""Source timestamps to UTC: naive stamps are plant-local time, stamps with an offset are converted.

An offset in the source is a fact and is never relabelled with the plant's zone. A naive stamp in the autumn
DST overlap (the repeated hour) or in the spring gap (the skipped hour) cannot be placed on the UTC line by
the export alone: it is rejected, naming the zone, unless the mapping declares a policy (``ambiguous:
earliest | latest``, ``nonexistent: shift_forward``). A value that is not a date and time (a bare date, a
number) is rejected too, never read as midnight or as a guessed epoch.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

Ambiguous = Literal["reject", "earliest", "latest"]
Nonexistent = Literal["reject", "shift_forward"]


class TimestampRejected(ValueError):
    """A value that parses but cannot be trusted as a point in time; the message is the quarantine reason."""


def to_utc(
    value: Any,
    timestamp_format: str | None,
    zone: ZoneInfo,
    ambiguous: Ambiguous = "reject",
    nonexistent: Nonexistent = "reject",
) -> datetime:
    """A UTC, timezone-aware datetime (microseconds) from a source value; raises ValueError if unparsable,
    TimestampRejected (a ValueError) with the reason when it parses but is not a trustworthy instant."""
    if isinstance(value, datetime):  # Parquet and pandas already hold datetimes (pd.Timestamp included)
        stamp = value
    elif isinstance(value, date):
        raise TimestampRejected(f"timestamp {value.isoformat()} is a date without a time of day")
    elif isinstance(value, bool | int | float | Decimal):
        raise TimestampRejected(f"timestamp {value!r} is a number, not a date and time")
    else:
        text = str(value).strip()
        if timestamp_format:
            stamp = datetime.strptime(text, timestamp_format)
        else:
            stamp = datetime.fromisoformat(text)
            if _is_date_only(text):  # fromisoformat reads "20261109" and "2026-11-09" as midnight
                raise TimestampRejected(f"timestamp {text!r} is a date without a time of day")
    if stamp.tzinfo is None or stamp.utcoffset() is None:
        stamp = _localize(stamp.replace(tzinfo=None), zone, ambiguous, nonexistent)
    stamp = stamp.astimezone(UTC)
    # pd.Timestamp may carry nanoseconds; the contract is microseconds
    return datetime(*stamp.timetuple()[:6], stamp.microsecond, tzinfo=UTC)


def _is_date_only(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _localize(naive: datetime, zone: ZoneInfo, ambiguous: Ambiguous, nonexistent: Nonexistent) -> datetime:
    """``naive`` as a wall-clock reading in ``zone``, by the mapping's policy where the clock repeats or
    skips it."""
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:  # the skipped hour
        if nonexistent == "shift_forward":
            return first  # fold=0 reads it with the offset before the change: moved forward by the gap
        raise TimestampRejected(
            f"local time {naive.isoformat()} does not exist in {zone.key} (the clocks jump forward over it); "
            "declare nonexistent: shift_forward in the mapping to read it, the default is reject"
        )
    if ambiguous == "earliest":
        return first
    if ambiguous == "latest":
        return second
    raise TimestampRejected(
        f"local time {naive.isoformat()} occurs twice in {zone.key} (the clocks go back over it); "
        "declare ambiguous: earliest or latest in the mapping to read it, the default is reject"
    )


def describe_format(timestamp_format: str | None) -> str:
    return f"format {timestamp_format!r}" if timestamp_format else "ISO 8601"
