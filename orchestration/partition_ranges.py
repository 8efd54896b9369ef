"""Ranges of factory days as runs carry them: the range tags of a single-run backfill, and how a range that
a blocked day stopped is split (in halves, down to the blocked day). Used by the command-line backfill and by
the sensor that does the same for backfills launched from the UI."""

from __future__ import annotations

from datetime import date, timedelta

# The tags Dagster puts on a run that materializes a range of partitions at once.
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def days_between(first: str, last: str) -> list[str]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def halves(days: list[str]) -> list[list[str]]:
    middle = len(days) // 2
    return [days[:middle], days[middle:]]
