"""Landing a factory day: every raw table through the row gate into the lake, with the ledger that proves
nothing was lost (rows in = accepted + quarantined). The extraction assets call this for each source."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from orchestration.lake.writer import write_partition
from orchestration.quality.gate import GateContext, StreamGate, gate_table, reconciliation


@dataclass
class LandedDay:
    ledger: pa.Table  # one row per raw table: rows in, accepted, quarantined
    quarantined_samples: list[str] = field(default_factory=list)  # the first few per table, for the run log

    @property
    def summary(self) -> str:
        rows = self.ledger.to_pylist()
        accepted = sum(r["rows_accepted"] for r in rows)
        held = sum(r["rows_quarantined"] for r in rows)
        return f"{accepted} rows accepted, {held} quarantined"


def land_day(
    lake_dir: Path,
    day: str,
    window: tuple[datetime, datetime],
    tables: dict,
    check_activities: bool = True,
) -> LandedDay:
    """Pass the day's raw tables (Arrow tables, or an iterable of record batches for telemetry) through the
    row gate: accepted rows to raw/, the others to quarantine/, the ledger to quarantine/reconciliation/."""
    start, end = window
    machines = tables["machines"]
    known = frozenset(machines["machine_id"].to_pylist())
    rooms = frozenset(r for r in machines["room_id"].to_pylist() if r is not None)
    # Activities are checked against master data only when it is authoritative (the simulated plant's, or a
    # plant's machines CSV); machines derived from the events know only each one's most frequent step.
    steps = (
        frozenset(a for a in machines["activity"].to_pylist() if a is not None) if check_activities else None
    )
    sensors = tables.get("sensors")  # the equipment's plausible sensor ranges, where the source knows them
    gate_context = GateContext(
        day,
        start,
        end,
        known_machines=known,
        known_places=known | rooms,
        known_activities=steps,
        sensor_ranges=sensors if sensors is not None and sensors.num_rows else None,
    )
    outcomes, samples = [], []
    for table, data in tables.items():
        if isinstance(data, pa.Table):
            outcome = gate_table(table, data, gate_context)
            write_partition(lake_dir, table, day, outcome.accepted)
        else:
            stream = StreamGate(table, gate_context)
            write_partition(lake_dir, table, day, stream.accepted_batches(data))
            outcome = stream.outcome()
        write_partition(lake_dir, table, day, outcome.quarantined, layer="quarantine")
        samples += [
            f"{day} {table} row {row['row_number']} quarantined: {row['reason']}"
            for row in outcome.quarantined.slice(0, 5).to_pylist()
        ]
        outcomes.append(outcome)
    ledger = reconciliation(outcomes)
    write_partition(lake_dir, "reconciliation", day, ledger, layer="quarantine")
    return LandedDay(ledger, samples)
