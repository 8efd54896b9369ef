"""Traces over a month of per-cell history: how long a quality engineer waits for a containment list.

    .venv/bin/python benchmarks/trace_history.py [--scenario data/scenarios/default.yaml] [--days 30]
        [--first 2026-11-09] [--keep FOLDER]

Simulates ``--days`` consecutive factory days, lands their production events in a lake and resolves each
into its per-cell genealogy as the pipeline does (``expand_landed_day``: every batch continued from its
earlier days), then loads the days into a DuckDB file laid out as the warehouse's ``ocel`` schema (the
tables dbt builds a day at a time, in day order). Then it times, on that file, forward traces from a coil
segment and a slurry batch and backward traces from a cell, each taken from the window's first day, its
middle and its last day, as ``python -m orchestration.genealogy trace`` runs them (the days a history can
lie in read, the rest skipped) and, as the peer, the same queries over every day of the file. Both must give
the same rows; the ratio is printed. Run by hand: building a month takes a few minutes.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402

from orchestration.genealogy import model as m  # noqa: E402
from orchestration.genealogy.landed import expand_landed_day  # noqa: E402
from orchestration.genealogy.trace import (  # noqa: E402
    backward_in,
    backward_in_warehouse,
    forward_in,
    forward_in_warehouse,
)
from orchestration.lake.writer import write_partition  # noqa: E402
from orchestration.simulator.config import load_scenario  # noqa: E402
from orchestration.simulator.engine import run_factory_day  # noqa: E402

TABLES = {  # genealogy table -> the warehouse's ocel table
    "event": "event",
    "event_object": "event_object",
    "object": "object_by_day",
    "object_object": "object_object_by_day",
    "object_attribute": "object_attribute_by_day",
}


def build(scenario: Path, first: date, days: int, folder: Path) -> Path:
    config = load_scenario(scenario)
    lake, warehouse = folder / "lake", folder / "warehouse.duckdb"
    began = time.perf_counter()
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA ocel")
        for offset in range(days):
            day = (first + timedelta(days=offset)).isoformat()
            tables = run_factory_day(config, date.fromisoformat(day)).tables
            for table in ("production_events", "machines"):
                write_partition(lake, table, day, tables[table])
            for table, rows in expand_landed_day(config, lake, day).items():
                dated = rows.append_column(
                    "production_date", pa.repeat(pa.scalar(date.fromisoformat(day)), len(rows))
                )
                con.register("rows", dated)
                if offset == 0:
                    con.execute(f"CREATE TABLE ocel.{TABLES[table]} AS SELECT * FROM rows")
                else:
                    con.execute(f"INSERT INTO ocel.{TABLES[table]} SELECT * FROM rows")
                con.unregister("rows")
        rows = {t: con.execute(f"SELECT count(*) FROM ocel.{t}").fetchall()[0][0] for t in TABLES.values()}
    print(
        f"{days} days of {scenario.name} built in {time.perf_counter() - began:.0f} s: "
        + ", ".join(f"{t} {n:,}" for t, n in rows.items())
    )
    print(f"  file {warehouse.stat().st_size / 2**20:.0f} MiB, peak RSS {peak_mib():.0f} MiB")
    return warehouse


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def origins(con: duckdb.DuckDBPyConnection, first: date, days: int) -> list[tuple[str, str, str]]:
    """(direction, kind, id): a segment, a slurry batch and a cell from the first, middle and last day."""
    picked = []
    for offset in (0, days // 2, days - 1):
        day = (first + timedelta(days=offset)).isoformat()
        for kind, direction in ((m.SEGMENT, "forward"), (m.SLURRY, "forward"), (m.CELL, "backward")):
            found = con.execute(
                "SELECT ocel_id FROM ocel.object_by_day WHERE production_date = ?::DATE AND ocel_type = ? "
                "ORDER BY ocel_id LIMIT 1 OFFSET 7",
                [day, kind],
            ).fetchall()
            if found:
                picked.append((direction, f"{kind} of day {offset + 1}", found[0][0]))
    return picked


def timed(trace, con: duckdb.DuckDBPyConnection, origin: str, repeat: int = 3):
    """The best of ``repeat`` runs of ``trace(con, origin)`` (seconds) and its rows."""
    best, result = float("inf"), None
    for _ in range(repeat):
        began = time.perf_counter()
        result = trace(con, origin)
        best = min(best, time.perf_counter() - began)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=Path("data/scenarios/default.yaml"))
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--first", type=date.fromisoformat, default=date(2026, 11, 9))
    parser.add_argument(
        "--keep", type=Path, help="build in this folder and keep it (default: a temporary one)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        warehouse = folder / "warehouse.duckdb"
        if not warehouse.exists():
            warehouse = build(args.scenario, args.first, args.days, folder)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            con.execute("SET TimeZone = 'UTC'")
            print(f"{'trace':50s} {'rows':>6s} {'ours':>8s} {'all days':>9s} {'ratio':>6s}")
            worst = 0.0
            for direction, kind, origin in origins(con, args.first, args.days):
                ours, peer = (
                    (forward_in_warehouse, forward_in)
                    if direction == "forward"
                    else (backward_in_warehouse, backward_in)
                )
                mine, found = timed(ours, con, origin)
                theirs, expected = timed(peer, con, origin)
                key = found.column_names[0]
                assert found.sort_by(key).equals(expected.sort_by(key)), f"{origin}: the rows differ"
                worst = max(worst, mine)
                print(
                    f"{direction + ' from ' + kind + ' ' + origin:50s} {found.num_rows:6d} "
                    f"{mine:7.2f}s {theirs:8.2f}s {theirs / mine:5.1f}x"
                )
            print(
                f"slowest trace over {args.days} days: {worst:.2f} s (goal: about a second); "
                f"peak RSS {peak_mib():.0f} MiB"
            )


if __name__ == "__main__":
    main()
