"""Checks on what the row gate landed: the ledger reconciles, the day's volume is plausible, telemetry has
no silent holes. Pure functions over Arrow tables; orchestration/defs/raw_checks.py runs them per day."""

from __future__ import annotations

import statistics
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lake.writer import partition_file, read_partition

# A day with fewer rows than this share of the median of the days before it has lost data on the way.
COLLAPSE_SHARE = 0.5
HISTORY_DAYS = 7
# A sensor is silent when two readings lie further apart than this many of its usual intervals.
GAP_INTERVALS = 2.5


def reconciliation_problems(ledger: pa.Table, table: str, landed_rows: int) -> list[str]:
    """Why the day's ledger for ``table`` does not hold (empty when it does)."""
    rows = [r for r in ledger.to_pylist() if r["table_name"] == table]
    if len(rows) != 1:
        return [f"the ledger has {len(rows)} rows for {table}, not one"]
    row = rows[0]
    problems = []
    if row["rows_in"] != row["rows_accepted"] + row["rows_quarantined"]:
        problems.append(
            f"rows in {row['rows_in']} != accepted {row['rows_accepted']} "
            f"+ quarantined {row['rows_quarantined']}"
        )
    if row["rows_accepted"] != landed_rows:
        problems.append(
            f"the ledger accepted {row['rows_accepted']} rows but the raw file holds {landed_rows}"
        )
    return problems


def volume_collapse(rows_in: int, history: list[int]) -> str | None:
    """A sentence when the day's rows fell below COLLAPSE_SHARE of the recent median, else None."""
    history = [h for h in history if h > 0]
    if not history:
        return None
    median = statistics.median(history)
    if rows_in < COLLAPSE_SHARE * median:
        return (
            f"{rows_in} rows against a median of {median:,.0f} over the {len(history)} days before "
            f"({rows_in / median:.0%}, floor {COLLAPSE_SHARE:.0%})"
        )
    return None


def day_volume(lake_dir: Path, table: str, day: str) -> tuple[int, list[int]]:
    """(rows in of ``table`` on ``day``, rows in on each of the HISTORY_DAYS days before that were landed),
    from the reconciliation ledgers the row gate wrote."""

    def rows_in(ledger: pa.Table) -> list[int]:
        return [r["rows_in"] for r in ledger.to_pylist() if r["table_name"] == table]

    history = []
    for back in range(1, HISTORY_DAYS + 1):
        earlier = (date.fromisoformat(day) - timedelta(days=back)).isoformat()
        path = partition_file(lake_dir, "reconciliation", earlier, layer="quarantine")
        if path.exists():
            history += rows_in(pq.read_table(path))
    today = rows_in(read_partition(lake_dir, "reconciliation", day, layer="quarantine"))[0]
    return today, history


def sensor_gaps(readings: pa.Table) -> list[dict]:
    """Silences per sensor: consecutive readings further apart than GAP_INTERVALS x its median interval."""
    if readings.num_rows == 0:
        return []
    with duckdb.connect() as conn:
        conn.register("readings", readings.select(["sensor_id", "reading_ts"]))
        return (
            conn.sql(
                f"""
            with steps as (
                select sensor_id, reading_ts,
                       lag(reading_ts) over (partition by sensor_id order by reading_ts) as previous_ts
                from readings
            ),
            intervals as (
                select sensor_id, previous_ts, reading_ts,
                       epoch(reading_ts::timestamptz) - epoch(previous_ts::timestamptz) as step_s
                from steps where previous_ts is not null
            ),
            usual as (
                select sensor_id, median(step_s) as interval_s from intervals group by sensor_id
            )
            select i.sensor_id, i.previous_ts as last_reading_ts, i.reading_ts as next_reading_ts,
                   i.step_s / 60.0 as silent_min, u.interval_s
            from intervals as i join usual as u using (sensor_id)
            where i.step_s > {GAP_INTERVALS} * u.interval_s
            order by i.sensor_id, i.previous_ts
            """
            )
            .to_arrow_table()
            .to_pylist()
        )
