"""The row gate: every landed row is either accepted or quarantined with the reason, never dropped.

Row rules run in one DuckDB query per table and factory day: a row is held back for the first rule it breaks
(missing key, duplicate, end before start, outside the factory day, unknown machine, implausible value, ...).
Ranges come from the data's own configuration (a measurement's spec limits, the master data's machines), not
from constants here. The outcome reconciles: rows in = rows accepted + rows quarantined.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.lake.tables import (
    MACHINE_STATES,
    PRIMARY_KEYS,
    QUARANTINE_SCHEMA,
    QUARANTINE_TABLES,
    RAW_TABLES,
)

# A measurement further than this many spec widths outside its limits is not a bad part but a bad reading
# (a unit mix-up, a gauge fault): it is quarantined. Values between are real quality data and stay.
PLAUSIBLE_SPEC_WIDTHS = 5.0

# The column that places a row in its factory day (events may end after the day; they may not start outside).
DAY_COLUMN = {
    "production_events": "start_ts",
    "machine_states": "start_ts",
    "quality_measurements": "measured_ts",
    "sensor_readings": "reading_ts",
}


@dataclass(frozen=True)
class GateContext:
    day: str
    window_start: datetime
    window_end: datetime
    known_machines: frozenset[str] | None = None  # None: no master data to check against
    known_places: frozenset[str] | None = None  # machines and rooms (for sensors): None, no check
    known_activities: frozenset[str] | None = None  # route steps of the master data: None, no check
    sensor_ranges: pa.Table | None = None  # RAW_TABLES["sensors"]: plausible range per sensor; None, no check


@dataclass(frozen=True)
class GateOutcome:
    table: str
    day: str
    accepted: pa.Table | None  # None when the accepted rows were streamed to the lake batch by batch
    quarantined: pa.Table  # QUARANTINE_SCHEMA
    rows_in: int
    rows_accepted: int

    @property
    def reconciles(self) -> bool:
        return self.rows_in == self.rows_accepted + self.quarantined.num_rows


def _known_machines(table: str, context: GateContext) -> frozenset[str] | None:
    """What a row's machine_id may name: sensors hang on machines or on rooms, everything else on machines."""
    return context.known_places if table in ("sensor_readings", "sensors") else context.known_machines


def _rules(table: str, context: GateContext) -> list[tuple[str, str, str]]:
    """(field, SQL condition that is true for a bad row, SQL text of the reason), in the order they apply."""
    rules = [(key, f'"{key}" is null', f"'missing {key}'") for key in PRIMARY_KEYS[table]]
    rules.append(
        (
            ",".join(PRIMARY_KEYS[table]),
            "_copy > 1",
            "'duplicate of an earlier row with the same " + " and ".join(PRIMARY_KEYS[table]) + "'",
        )
    )
    if table in DAY_COLUMN:
        column = DAY_COLUMN[table]
        rules.append((column, f"{column} is null", f"'missing {column}'"))
        rules.append(
            (
                column,
                f"{column} < $window_start or {column} >= $window_end",
                f"'{column} ' || strftime({column} at time zone 'UTC', '%Y-%m-%dT%H:%M:%SZ') "
                f"|| ' is outside factory day {context.day}'",
            )
        )
    if "end_ts" in RAW_TABLES[table].names:
        rules.append(("end_ts", "end_ts is null", "'missing end_ts'"))
        rules.append(("end_ts", "end_ts < start_ts", "'end_ts is before start_ts'"))
    if table == "production_events":
        for column in ("case_id", "activity", "machine_id"):
            rules.append((column, f"{column} is null", f"'missing {column}'"))
        for column in ("produced_qty", "good_qty", "scrap_qty"):
            rules.append((column, f"{column} < 0", f"'negative {column}: ' || {column}"))
        rules.append(
            (
                "good_qty",
                "good_qty + scrap_qty <> produced_qty",
                "'good ' || good_qty || ' + scrap ' || scrap_qty || ' is not produced ' || produced_qty",
            )
        )
    if table == "machine_states":
        states = ", ".join(f"'{s}'" for s in MACHINE_STATES)
        rules.append(
            (
                "state",
                f"state is null or state not in ({states})",
                "'unknown state ' || coalesce(state, 'null')",
            )
        )
    if table == "quality_measurements":
        rules.append(("value", "value is null or not isfinite(value)", "'missing or non-finite value'"))
        rules.append(
            ("usl", "lsl is null or usl is null or lsl >= usl", "'spec limits missing or lsl >= usl'")
        )
        widths = PLAUSIBLE_SPEC_WIDTHS
        rules.append(
            (
                "value",
                f"value < lsl - {widths} * (usl - lsl) or value > usl + {widths} * (usl - lsl)",
                f"'implausible value ' || value || ' ' || coalesce(unit, '') "
                f"|| ': more than {widths:g} spec widths outside [' || lsl || ', ' || usl || ']'",
            )
        )
    if table == "sensor_readings":
        rules.append(("value", "value is null or not isfinite(value)", "'missing or non-finite value'"))
        if context.sensor_ranges is not None:
            rules.append(
                (
                    "value",
                    "_plausible_min is not null and (value < _plausible_min or value > _plausible_max)",
                    "'implausible reading ' || value || ' ' || coalesce(unit, '') || ' outside the sensor''s "
                    "range [' || _plausible_min || ', ' || _plausible_max || ']'",
                )
            )
    if context.known_activities is not None and table == "production_events":
        steps = ", ".join("'" + a.replace("'", "''") + "'" for a in sorted(context.known_activities))
        rules.append(
            ("activity", f"activity not in ({steps or 'null'})", "'unknown activity ''' || activity || ''''")
        )
    if (
        _known_machines(table, context) is not None
        and "machine_id" in RAW_TABLES[table].names
        and table != "machines"
    ):
        rules.append(
            (
                "machine_id",
                "machine_id not in (select machine_id from _known)",
                "'unknown machine ''' || machine_id || ''' (not in the master data)'",
            )
        )
    return rules


def gate_table(table: str, data: pa.Table, context: GateContext) -> GateOutcome:
    """Split one factory day of a raw table into accepted rows and quarantined rows with their reasons."""
    missing = [name for name in RAW_TABLES[table].names if name not in data.column_names]
    if missing:  # nothing in the table can be trusted to mean what the contract says: hold it all back
        return _all_held_back(table, data, context, f"column(s) {missing} missing from the landed table")
    rules = _rules(table, context)
    keys = ", ".join(f'"{k}"' for k in PRIMARY_KEYS[table])
    verdict_field = "case " + " ".join(f"when {cond} then '{field}'" for field, cond, _ in rules) + " end"
    verdict_reason = "case " + " ".join(f"when {cond} then {reason}" for _, cond, reason in rules) + " end"
    known = sorted(_known_machines(table, context) or [])
    with duckdb.connect() as conn:
        conn.register("_landed", data)
        conn.register("_known", pa.table({"machine_id": pa.array(known, pa.string())}))
        ranges = context.sensor_ranges if table == "sensor_readings" else None
        if ranges is None:
            ranges = pa.table(
                {"sensor_id": pa.array([], pa.string()), "plausible_min": [], "plausible_max": []}
            )
        conn.register("_ranges", ranges.select(["sensor_id", "plausible_min", "plausible_max"]))
        numbered = (
            "select landed.*, r.plausible_min as _plausible_min, r.plausible_max as _plausible_max "
            "from landed left join _ranges as r on r.sensor_id = landed.sensor_id"
            if table == "sensor_readings"
            else "select * from landed"
        )
        params = {"window_start": context.window_start, "window_end": context.window_end}
        used = {k: v for k, v in params.items() if f"${k}" in verdict_reason}
        conn.execute(
            f"""
            create temp table _judged as
            with landed as (
                select *, row_number() over () as _row from _landed
            ),
            numbered as (
                {numbered}
            ),
            copies as (
                select *, row_number() over (partition by {keys} order by _row) as _copy from numbered
            )
            select *, {verdict_field} as _field, {verdict_reason} as _reason from copies
            """,
            used,
        )
        columns = ", ".join(f'"{c}"' for c in RAW_TABLES[table].names)
        accepted = conn.sql(
            f"select {columns} from _judged where _reason is null order by _row"
        ).to_arrow_table()
        bad = conn.sql(
            f"select _row, _field, _reason, {columns} from _judged where _reason is not null order by _row"
        ).to_arrow_table()
    records = bad.select(RAW_TABLES[table].names).to_pylist()
    quarantined = pa.table(
        {
            "table_name": [table] * bad.num_rows,
            "row_number": bad["_row"].cast(pa.int64()),
            "field": bad["_field"],
            "reason": bad["_reason"],
            "record": [json.dumps(r, default=str) for r in records],
        },
        schema=QUARANTINE_SCHEMA,
    )
    accepted = accepted.cast(RAW_TABLES[table]) if accepted.num_rows else RAW_TABLES[table].empty_table()
    return GateOutcome(table, context.day, accepted, quarantined, data.num_rows, accepted.num_rows)


def _all_held_back(table: str, data: pa.Table, context: GateContext, reason: str) -> GateOutcome:
    quarantined = pa.table(
        {
            "table_name": [table] * data.num_rows,
            "row_number": list(range(1, data.num_rows + 1)),
            "field": ["table"] * data.num_rows,
            "reason": [reason] * data.num_rows,
            "record": [json.dumps(r, default=str) for r in data.to_pylist()],
        },
        schema=QUARANTINE_SCHEMA,
    )
    return GateOutcome(table, context.day, RAW_TABLES[table].empty_table(), quarantined, data.num_rows, 0)


def reconciliation(outcomes: list[GateOutcome]) -> pa.Table:
    """One row per table: rows in, accepted, quarantined (the ledger the reconciliation check asserts on)."""
    return pa.table(
        {
            "table_name": [o.table for o in outcomes],
            "rows_in": [o.rows_in for o in outcomes],
            "rows_accepted": [o.rows_accepted for o in outcomes],
            "rows_quarantined": [o.quarantined.num_rows for o in outcomes],
        },
        schema=QUARANTINE_TABLES["reconciliation"],
    )


class StreamGate:
    """The gate over a table arriving in record batches (1 Hz telemetry): batch by batch, bounded memory.

    Duplicates are caught within a batch; the simulated and streamed sources cut batches by time, so a key
    repeats across batches only if a source sends the same instant twice far apart, which the checks report.
    """

    def __init__(self, table: str, context: GateContext):
        self.table, self.context = table, context
        self.rows_in = self.rows_accepted = 0
        self._quarantined: list[pa.Table] = []

    def accepted_batches(self, batches) -> Iterator[pa.Table]:
        for batch in batches:
            part = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
            outcome = gate_table(self.table, part, self.context)
            bad = outcome.quarantined
            if bad.num_rows:  # row numbers count across the whole day's table
                offset = pc.add(bad["row_number"], self.rows_in)
                self._quarantined.append(bad.set_column(1, "row_number", offset))
            self.rows_in += outcome.rows_in
            self.rows_accepted += outcome.accepted.num_rows
            yield outcome.accepted

    def outcome(self) -> GateOutcome:
        quarantined = (
            pa.concat_tables(self._quarantined) if self._quarantined else QUARANTINE_SCHEMA.empty_table()
        )
        return GateOutcome(self.table, self.context.day, None, quarantined, self.rows_in, self.rows_accepted)
