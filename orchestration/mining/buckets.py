"""A large event log a bucket of whole cases at a time, so that no statistic holds the whole log in memory.

A statistic that follows each case through its steps (a window over the case) needs the case whole, not
the log whole: the cases are split by a hash of their id into buckets of about BUCKET_EVENTS events, each
bucket's steps are counted into a temporary table, and counts add up across buckets.

Each bucket filters the whole log again (about 5 s per bucket at 150M events from Parquet); writing the
buckets apart first, in one partitioned copy, took longer than the re-reads it saves (89 s for 150M events).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

# Events per bucket: 10M events sort within about 0.5 GiB; 150M at once ran out of 12 GiB.
BUCKET_EVENTS = 10_000_000


def case_buckets(
    conn, events: str, bucket_events: int = BUCKET_EVENTS, total: int | None = None
) -> list[str]:
    """Relations that split ``events`` into buckets of whole cases; ``events`` itself when it is small.
    ``total``: the events, when the caller counted them already."""
    if total is None:
        (total,) = conn.execute(f"select count(*) from {events}").fetchone()
    buckets = max(1, math.ceil(total / bucket_events))
    if buckets == 1:
        return [events]
    return [f"(select * from {events} where hash(case_id) % {buckets} = {b})" for b in range(buckets)]


@contextmanager
def temp_table(conn, stem: str, columns: str) -> Iterator[str]:
    """A temporary table of ``columns`` (DDL) under a fresh name, dropped on the way out."""
    name = f"mining_{stem}_{uuid.uuid4().hex[:12]}"
    conn.execute(f"create temp table {name} ({columns})")
    try:
        yield name
    finally:
        conn.execute(f"drop table if exists {name}")
