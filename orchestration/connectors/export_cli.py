"""Export the warehouse's event logs to XES and OCEL 2.0 for ProM, Disco, Celonis or pm4py.

    python -m orchestration.connectors.export_cli --from 2026-11-09 --to 2026-11-15 --out /tmp/event_log
        [--warehouse data/warehouse.duckdb] [--ocel-format json|sqlite]

Writes ``event_log.xes``, every step of every batch in the factory-day window (marts.fct_process_events),
and the window's OCEL 2.0 log, ``event_log.jsonocel`` or ``event_log.sqlite``: per cell, with every object
type and relation, from the warehouse's ``ocel`` schema where it holds events of the window; else per batch
(objects batch and machine), from the same steps as the XES (a plant's export has batches, not cells). The
printed lines say which. The warehouse is opened read-only and closed before the files are written, so
the export never blocks a running pipeline.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.command_line import Parser, add_day_range, day_range
from orchestration.connectors.export import export_xes, ocel_tables
from orchestration.genealogy.export import read_window, to_json, to_sqlite, warehouse_window_events
from orchestration.settings import load_settings

EVENT_LOG = "marts.fct_process_events"
OCEL_FILES = {"json": "event_log.jsonocel", "sqlite": "event_log.sqlite"}


def event_log_window(conn, first_day: date, last_day: date) -> pa.Table:
    """The event-log mart's steps of the factory days first_day..last_day, in time order."""
    return conn.sql(
        f"select case_id, activity, start_ts, end_ts, machine_id, product_id, line_id, event_id, "
        f"produced_qty, good_qty, scrap_qty from {EVENT_LOG} "
        "where production_date between $first and $last order by start_ts, event_id",
        params={"first": first_day, "last": last_day},
    ).to_arrow_table()


@dataclass(frozen=True)
class Exported:
    xes: Path
    ocel: Path
    steps: int  # batch steps in the XES
    per_cell: bool  # the OCEL log is the warehouse's per-cell one (else batch-level)
    ocel_events: int
    object_types: int

    def describe(self) -> str:
        level = "per-cell, from the warehouse's ocel schema" if self.per_cell else "batch-level"
        return f"{level}: {self.ocel_events} events, {self.object_types} object types"


def export_event_log(
    warehouse: Path, first_day: date, last_day: date, out_dir: Path, ocel_format: str = "json"
) -> Exported:
    """Write the window's XES and OCEL 2.0 logs under ``out_dir`` (see the module's doc)."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        events = event_log_window(conn, first_day, last_day)
        per_cell = warehouse_window_events(conn, first_day, last_day) > 0
        tables = read_window(conn, first_day, last_day) if per_cell else None
    if tables is None:
        tables = ocel_tables(events)
    out_dir.mkdir(parents=True, exist_ok=True)
    xes = export_xes(events, out_dir / "event_log.xes")
    write = to_json if ocel_format == "json" else to_sqlite
    ocel = write(tables, out_dir / OCEL_FILES[ocel_format])
    object_types = len(set(tables["object"]["ocel_type"].to_pylist()))
    return Exported(xes, ocel, events.num_rows, per_cell, tables["event"].num_rows, object_types)


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m orchestration.connectors.export_cli", description=__doc__.splitlines()[0])
    add_day_range(parser, as_text=False)
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default: the settings')")
    parser.add_argument(
        "--ocel-format",
        choices=sorted(OCEL_FILES),
        default="json",
        help="OCEL 2.0 JSON (default) or SQLite, the compact one for a per-cell window of many days",
    )
    args = parser.parse_args(argv)
    day_range(parser, args.first, args.last)
    warehouse = args.warehouse or load_settings().warehouse_path
    if not warehouse.is_file():
        print(
            f"error: no warehouse at {warehouse}: run `make demo` (or materialize the assets) first",
            file=sys.stderr,
        )
        return 2
    exported = export_event_log(warehouse, args.first, args.last, args.out, args.ocel_format)
    print(
        f"{exported.steps} steps from {args.first} to {args.last}:\n  {exported.xes}\n"
        f"  {exported.ocel} (OCEL 2.0 {exported.describe()})"
    )
    return 0 if exported.steps or exported.ocel_events else 1


if __name__ == "__main__":
    raise SystemExit(main())
