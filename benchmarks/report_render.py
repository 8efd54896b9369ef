"""How long the whole factory's reports of one day take: every role's daily report and every shift's handover.

    python benchmarks/report_render.py [--warehouse data/warehouse.duckdb] [--day 2026-11-15] [--work DIR]

On the default plant's warehouse (``make demo`` builds one simulated week; without a warehouse this script
simulates the week, builds the marts with dbt and runs anomaly detection and SPC on it, as the platform does),
the five role reports and three shift handovers of the day are rendered from a fresh read-only connection:
once cold (the first render of the process: Jinja warms up) and then three times warm, each time with nothing
cached between runs. The peer is what a BI tool would do first: read the day's rows of every table the reports
read into pandas, no figure computed. Target: under 5 minutes; goal: under 30 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import duckdb  # noqa: E402

from orchestration.plant import resolve_plant  # noqa: E402
from orchestration.reporting import render_daily_reports, render_shift_handover  # noqa: E402

TARGET_S, GOAL_S = 300.0, 30.0


def build_default_week(work: Path) -> Path:
    """One simulated week of the default plant: lake, dbt marts, sensor anomalies, SPC (no process mining)."""
    from warehouse_history import WEEK_START, build_week

    from orchestration.anomalies.plant import detect_day, write_sensor_anomalies
    from orchestration.anomalies.quality_control import spc_day, write_spc

    warehouse = build_week(work)
    calendar = resolve_plant().calendar
    for offset in range(7):
        day = (WEEK_START + timedelta(days=offset)).isoformat()
        with duckdb.connect(str(warehouse), read_only=True) as conn:
            events = detect_day(conn, day, calendar, 1)
        with duckdb.connect(str(warehouse)) as conn:
            write_sensor_anomalies(conn, day, events)
            write_spc(conn, day, *spc_day(conn, day))
    return warehouse


def render_everything(warehouse: Path, day: str, shelf: Path) -> tuple[float, dict[str, bool]]:
    started = time.perf_counter()
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        conn.execute("set TimeZone = 'UTC'")
        calendar = resolve_plant().calendar
        daily = render_daily_reports(conn, day, shelf, calendar=calendar)
        rendered = {f"daily/{role}": r.complete for role, r in daily.items()}
        for slot in calendar.shifts:
            handover = render_shift_handover(conn, day, slot.name, shelf, calendar=calendar)
            rendered[f"handover/{slot.name}"] = handover.complete
    return time.perf_counter() - started, rendered


def read_peer(warehouse: Path, day: str) -> float:
    """The day's rows of every table with a production_date that the reports read, into pandas."""
    started = time.perf_counter()
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        conn.execute("set TimeZone = 'UTC'")
        tables = conn.execute(
            "select table_schema || '.' || table_name from information_schema.columns "
            "where column_name = 'production_date' "
            "and table_schema in ('marts', 'analytics', 'process_mining', 'rca')"
        ).fetchall()
        for (table,) in tables:
            conn.execute(f"select * from {table} where production_date = ?", [day]).df()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=REPO / "data" / "warehouse.duckdb")
    parser.add_argument("--day", help="factory day (default: the warehouse's last day)")
    parser.add_argument("--work", type=Path, help="where to build a warehouse when there is none")
    args = parser.parse_args()
    warehouse = args.warehouse
    if not warehouse.exists():
        work = args.work or Path(tempfile.mkdtemp(prefix="report_render_"))
        print(f"no warehouse at {warehouse}: simulating the default week into {work} ...", flush=True)
        warehouse = build_default_week(work)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        last, events, machines = conn.execute(
            "select max(production_date), (select count(*) from marts.fct_process_events), "
            "(select count(distinct machine_id) from marts.fct_oee_machine_day) "
            "from marts.fct_oee_factory_day"
        ).fetchone()
    day = args.day or date.isoformat(last)
    with tempfile.TemporaryDirectory(prefix="report_shelf_") as shelf_name:
        shelf = Path(shelf_name)
        cold, rendered = render_everything(warehouse, day, shelf)
        warm = [render_everything(warehouse, day, shelf)[0] for _ in range(3)]
        peer = statistics.median(read_peer(warehouse, day) for _ in range(3))
        size = sum(p.stat().st_size for p in shelf.rglob("*.html"))
    median = statistics.median(warm)
    print(f"warehouse {warehouse}: {events:,} process events, {machines} machines; factory day {day}")
    print(f"reports: {len(rendered)} ({', '.join(rendered)}), {size / 1e6:.1f} MB of HTML")
    print(f"  incomplete: {[name for name, complete in rendered.items() if not complete] or 'none'}")
    print(f"cold (first in the process): {cold:.2f} s")
    print(f"warm, median of 3: {median:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in warm)})")
    print(f"peer, reading the day's rows of the report tables into pandas: {peer:.2f} s")
    print(f"all reports = {median / peer:.1f} x the peer")
    verdict = "goal met" if cold < GOAL_S else ("target met" if cold < TARGET_S else "TARGET MISSED")
    print(f"target < {TARGET_S:.0f} s, goal < {GOAL_S:.0f} s: {verdict} (cold {cold:.1f} s)")
    return 0 if cold < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
