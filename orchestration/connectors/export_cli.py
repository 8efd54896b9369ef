"""Export the warehouse's event log (marts.fct_process_events) to XES and OCEL 2.0 for ProM, Disco or Celonis.

    python -m orchestration.connectors.export_cli --from 2026-11-09 --to 2026-11-15 --out /tmp/event_log
        [--warehouse data/warehouse.duckdb]

Writes ``event_log.xes`` and ``event_log.jsonocel`` with every step of every batch in the factory-day window.
The warehouse is opened read-only, so the export never blocks a running pipeline.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.command_line import Parser, add_day_range, day_range
from orchestration.connectors.export import export_ocel, export_xes
from orchestration.settings import load_settings

EVENT_LOG = "marts.fct_process_events"


def event_log_window(conn, first_day: date, last_day: date) -> pa.Table:
    """The event-log mart's steps of the factory days first_day..last_day, in time order."""
    return conn.sql(
        f"select case_id, activity, start_ts, end_ts, machine_id, product_id, line_id, event_id, "
        f"produced_qty, good_qty, scrap_qty from {EVENT_LOG} "
        "where production_date between $first and $last order by start_ts, event_id",
        params={"first": first_day, "last": last_day},
    ).to_arrow_table()


def export_event_log(
    warehouse: Path, first_day: date, last_day: date, out_dir: Path
) -> tuple[Path, Path, int]:
    """(XES file, OCEL file, steps) of the window's event log, written under ``out_dir``."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        events = event_log_window(conn, first_day, last_day)
    out_dir.mkdir(parents=True, exist_ok=True)
    xes = export_xes(events, out_dir / "event_log.xes")
    ocel = export_ocel(events, out_dir / "event_log.jsonocel")
    return xes, ocel, events.num_rows


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m orchestration.connectors.export_cli", description=__doc__.splitlines()[0])
    add_day_range(parser, as_text=False)
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default: the settings')")
    args = parser.parse_args(argv)
    day_range(parser, args.first, args.last)
    warehouse = args.warehouse or load_settings().warehouse_path
    if not warehouse.is_file():
        print(
            f"error: no warehouse at {warehouse}: run `make demo` (or materialize the assets) first",
            file=sys.stderr,
        )
        return 2
    xes, ocel, steps = export_event_log(warehouse, args.first, args.last, args.out)
    print(f"{steps} steps from {args.first} to {args.last}:\n  {xes}\n  {ocel}")
    return 0 if steps else 1


if __name__ == "__main__":
    raise SystemExit(main())
