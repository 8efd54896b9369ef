"""Machine master data for a real plant: from a machines CSV when the plant has one, else from the events.

Derived master data knows only what the events show: the machine, its line, and the step it performs most.
Planned runtime per unit (ISO 22400 PRU) and the cost figures stay null: guessing them would invent an OEE
effectiveness and a cost of poor quality that the plant never stated.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa

from orchestration.connectors.tabular import read_csv
from orchestration.lake.tables import RAW_TABLES

MACHINES_SCHEMA = RAW_TABLES["machines"]
MACHINES_CSV_COLUMNS = ("machine_id", "line_id", "activity", "room_id", "planned_runtime_per_unit_s")
_OPTIONAL_NUMBERS = ("conversion_cost_per_hour", "material_cost_share")


def derive_machines(events: pa.Table) -> pa.Table:
    """One row per machine of the events, in the machines schema; PRU and costs null (see module doc)."""
    activities: dict[str, Counter] = {}
    lines: dict[str, Counter] = {}
    for machine, activity, line in zip(
        events["machine_id"].to_pylist(),
        events["activity"].to_pylist(),
        events["line_id"].to_pylist(),
        strict=True,
    ):
        activities.setdefault(machine, Counter())[activity] += 1
        if line is not None:
            lines.setdefault(machine, Counter())[line] += 1
    machines = sorted(activities)

    def most_common(counts: Counter | None) -> str | None:
        # ties broken by name, so the result does not depend on row order
        return min(counts.items(), key=lambda item: (-item[1], item[0]))[0] if counts else None

    return pa.table(
        {
            "machine_id": machines,
            "line_id": [most_common(lines.get(m)) for m in machines],
            "activity": [most_common(activities[m]) for m in machines],  # a work centre may do several
            "room_id": [None] * len(machines),
            "planned_runtime_per_unit_s": [None] * len(machines),
            "conversion_cost_per_hour": [None] * len(machines),
            "material_cost_share": [None] * len(machines),
        },
        schema=MACHINES_SCHEMA,
    )


def load_machines_csv(path: str | Path) -> pa.Table:
    """A plant's machines CSV (``MACHINES_CSV_COLUMNS``, optionally the cost columns) as the machines table.

    Master data is small and everything downstream trusts it, so any bad value is an error naming the file,
    the line and the field, not a quarantined row.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: machines master data file not found")
    records = read_csv(path)
    missing = [name for name in MACHINES_CSV_COLUMNS if name not in records.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing} (expected {list(MACHINES_CSV_COLUMNS)})")
    columns: dict[str, list] = {name: [] for name in MACHINES_SCHEMA.names}
    first_line: dict[str, int] = {}
    for row, line, problem in zip(records.rows, records.lines, records.problems, strict=True):
        if problem is not None:
            raise ValueError(f"{path}: line {line}: {problem.reason}")
        machine = (row["machine_id"] or "").strip()
        if not machine:
            raise ValueError(f"{path}: line {line}: field 'machine_id' is empty")
        if machine in first_line:
            raise ValueError(f"{path}: line {line}: machine {machine!r} repeats line {first_line[machine]}")
        first_line[machine] = line
        columns["machine_id"].append(machine)
        for name in ("line_id", "activity", "room_id"):
            columns[name].append((row[name] or "").strip() or None)
        pru = _number(row["planned_runtime_per_unit_s"], path, line, "planned_runtime_per_unit_s")
        if pru is not None and pru <= 0:
            raise ValueError(f"{path}: line {line}: field 'planned_runtime_per_unit_s' must be > 0: {pru}")
        columns["planned_runtime_per_unit_s"].append(pru)
        for name in _OPTIONAL_NUMBERS:
            columns[name].append(_number(row.get(name), path, line, name))
    return pa.table(columns, schema=MACHINES_SCHEMA)


def _number(text: str | None, path: Path, line: int, field: str) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{path}: line {line}: field {field!r} is not a number: {text!r}") from None
