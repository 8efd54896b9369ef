"""Corrupted data on purpose: a scenario switch that damages the day's MES tables the way real feeds break,
so the quality gate can be shown to catch each kind (tests, and `make demo` with a corrupting scenario).

Each kind damages ``count`` rows chosen from the day's own random stream, so the damage is reproducible.
"""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa

from orchestration.simulator.config import Corruption
from orchestration.simulator.streams import stream


def corrupt(spec: Corruption, seed: int, day: date, tables: dict[str, pa.Table]) -> dict[str, pa.Table]:
    if spec.days is not None and day not in spec.days:
        return tables
    rng = stream(seed, day, "corruption")
    tables = dict(tables)
    events = tables["production_events"]
    used: set[int] = set()

    def pick(n: int, rows: int) -> list[int]:
        free = [i for i in range(rows) if i not in used]
        chosen = sorted(int(i) for i in rng.choice(free, size=min(n, len(free)), replace=False))
        used.update(chosen)
        return chosen

    def set_values(table: pa.Table, column: str, rows: list[int], values: list) -> pa.Table:
        current = table[column].to_pylist()
        for row, value in zip(rows, values, strict=True):
            current[row] = value
        index = table.schema.get_field_index(column)
        return table.set_column(index, column, pa.array(current, table.schema.field(column).type))

    rows = pick(spec.null_keys, events.num_rows)
    events = set_values(events, "event_id", rows, [None] * len(rows))
    rows = pick(spec.unknown_machines, events.num_rows)
    events = set_values(events, "machine_id", rows, ["GHOST-01"] * len(rows))
    rows = pick(spec.end_before_start, events.num_rows)
    starts, ends = events["start_ts"].to_pylist(), events["end_ts"].to_pylist()
    events = set_values(events, "end_ts", rows, [starts[r] - timedelta(minutes=30) for r in rows])
    rows = pick(spec.wrong_day, events.num_rows)
    starts, ends = events["start_ts"].to_pylist(), events["end_ts"].to_pylist()
    events = set_values(events, "start_ts", rows, [starts[r] + timedelta(days=2) for r in rows])
    events = set_values(events, "end_ts", rows, [ends[r] + timedelta(days=2) for r in rows])
    rows = pick(spec.duplicate_events, events.num_rows)
    events = pa.concat_tables([events, events.take(pa.array(rows, pa.int64()))])
    if spec.collapse_share > 0:  # the feed loses most of the day
        keep = rng.random(events.num_rows) >= spec.collapse_share
        events = events.filter(pa.array(keep))
    if spec.missing_column is not None:
        events = events.drop_columns([spec.missing_column])
    tables["production_events"] = events

    measurements = tables["quality_measurements"]
    chosen = rng.choice(
        measurements.num_rows, size=min(spec.out_of_range_measurements, measurements.num_rows), replace=False
    )
    rows = sorted(int(i) for i in chosen)
    values = measurements["value"].to_pylist()
    measurements = set_values(
        measurements, "value", rows, [values[r] * 1000.0 for r in rows]
    )  # a unit mix-up
    tables["quality_measurements"] = measurements
    return tables


def damaged_rows(spec: Corruption) -> int:
    """Rows of production_events and quality_measurements the row gate must hold back (collapse aside)."""
    return (
        spec.null_keys
        + spec.unknown_machines
        + spec.end_before_start
        + spec.wrong_day
        + spec.duplicate_events
        + spec.out_of_range_measurements
    )
