"""A week of the healthy plant (nothing planted) through SPC, RCA and the director's KPI board: false alarms.

    .venv/bin/python benchmarks/healthy_week.py [--scenario healthy] [--first 2026-11-09] [--days 7]
        [--baseline-days 7] [--no-sensors] [--workdir DIR]

The scenario is simulated at its own (default) scale from ``--baseline-days`` before the first judged day,
landed in a lake and built into a warehouse by dbt, as the platform does. Every day then gets its SPC charts
and alarms and its sensor alarms (the sensor side's detectors, against the days before), as the platform would
have run it; the judged days also their RCA cases (in a state file of their own) and the director's KPI
board. On data/scenarios/healthy.yaml every SPC alarm, sensor alarm, RCA case and "worse than the last 30
days" is false by construction. Prints per judged day: SPC alarms (critical / high / low), sensor alarms, RCA
cases opened, the KPIs the board calls worse, and the week's verdict. Thresholds are the platform's
defaults: nothing here is tuned.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import duckdb

from orchestration.anomalies.alarms import write_alarms
from orchestration.anomalies.plant import detect_day, sensor_alarms, write_sensor_anomalies
from orchestration.anomalies.quality_control import spc_day, write_spc
from orchestration.factory_calendar import FactoryCalendar
from orchestration.lake.writer import write_partition
from orchestration.rca import open_cases
from orchestration.reporting.kpi_board import kpi_board
from orchestration.reporting.roles import load_reporting_config
from orchestration.simulator import load_scenario
from orchestration.simulator.engine import run_factory_day

ROOT = Path(__file__).resolve().parent.parent


def land(config, days: list[date], lake: Path) -> None:
    for day in days:
        simulated = run_factory_day(config, day)
        for table, data in simulated.tables.items():
            write_partition(lake, table, day.isoformat(), data)
        write_partition(lake, "sensor_readings", day.isoformat(), simulated.telemetry.batches())


def build_warehouse(work: Path) -> Path:
    warehouse = work / "warehouse.duckdb"
    env = {
        **os.environ,
        "GIGAFACTORY_WAREHOUSE": str(warehouse),
        "GIGAFACTORY_LAKE": str(work / "lake"),
        "DO_NOT_TRACK": "1",
    }
    command = [sys.executable, "-m", "dbt.cli.main", "run", "--profiles-dir", "."]
    command += ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    run = subprocess.run(command, cwd=ROOT / "dbt_project", env=env, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(run.stdout[-4000:])
    return warehouse


def analytics_day(warehouse: Path, day: date, clock: FactoryCalendar, sensors: bool) -> dict:
    """SPC charts and alarms, and the sensors' anomalies and alarms (against the days before), of one day."""
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        spc = spc_day(conn, day.isoformat(), timezone=clock.timezone)
        write_spc(conn, day.isoformat(), *spc)
        sensor = []
        if sensors:
            events = detect_day(conn, day.isoformat(), clock)
            sensor = sensor_alarms(conn, day.isoformat(), events, clock)
            write_sensor_anomalies(conn, day.isoformat(), events)
            write_alarms(conn, day.isoformat(), "sensor", sensor)
    return {"spc": spc.alarms, "sensor": sensor}


def rca_day(warehouse: Path, state: Path, day: date) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        return open_cases(conn, state, day).new_case_ids


def board_verdict(warehouse: Path, day: date) -> tuple[list[str], list[str]]:
    """(KPIs worse than the last 30 days, KPIs worse than target) on the director's board of the day."""
    config = load_reporting_config()
    director = config.roles["director"]
    targets = [config.targets[name] for name in director.kpis]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        board = kpi_board(conn, day, targets, [])
    trailing = [f"{s.kpi.label} ({s.change:+.0%})" for s in board if s.worse and s.target is None]
    target = [f"{s.kpi.label} ({s.change:+.0%})" for s in board if s.worse and s.target is not None]
    return trailing, target


def priorities(alarms) -> str:
    counts = Counter(a.priority for a in alarms)
    return f"{len(alarms):2d} ({counts['critical']}/{counts['high']}/{counts['low']})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="healthy", help="a file name under data/scenarios, no .yaml")
    parser.add_argument("--first", type=date.fromisoformat, default=date(2026, 11, 9))
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--baseline-days", type=int, default=7, help="simulated days before the first")
    parser.add_argument("--no-sensors", action="store_true", help="leave the sensor detectors out (faster)")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="healthy_week_"))
    work.mkdir(parents=True, exist_ok=True)
    config = load_scenario(ROOT / "data" / "scenarios" / f"{args.scenario}.yaml")
    clock = FactoryCalendar(config.timezone, config.day_start_hour)
    before = [args.first - timedelta(days=n) for n in range(args.baseline_days, 0, -1)]
    judged = [args.first + timedelta(days=n) for n in range(args.days)]
    started = time.perf_counter()
    land(config, before + judged, work / "lake")
    warehouse = build_warehouse(work)
    for n, day in enumerate(before):  # the days before, as the platform would have run them: the history
        analytics_day(warehouse, day, clock, sensors=not args.no_sensors and n > 0)
    print(f"{config.name}: {args.days} judged days from {args.first}, {args.baseline_days} days before them")
    print(f"  (built in {time.perf_counter() - started:.0f} s in {work})")
    print("  day         SPC alarms (crit/high/low)  sensor alarms (crit/high/low)  RCA cases  board: worse")
    totals = Counter()
    worse_days = []
    for day in judged:
        result = analytics_day(warehouse, day, clock, not args.no_sensors)
        result["cases"] = rca_day(warehouse, work / "state.duckdb", day)
        trailing, target = board_verdict(warehouse, day)
        sensors = priorities(result["sensor"]) if not args.no_sensors else "   not run  "
        print(
            f"  {day}  {priorities(result['spc'])}                  {sensors}                "
            f"{len(result['cases']):2d}         {', '.join(trailing) or 'none'} than the last 30 days"
        )
        if target:
            print(f"              worse than target (a target, not noise): {', '.join(target)}")
        for alarm in result["spc"]:
            print(f"              SPC [{alarm.priority}] {alarm.sentence}")
        for case_id in result["cases"]:
            print(f"              RCA case {case_id}")
        totals.update(
            spc=len(result["spc"]),
            spc_critical=sum(a.priority == "critical" for a in result["spc"]),
            sensor=len(result["sensor"]),
            cases=len(result["cases"]),
        )
        worse_days += [day] if trailing else []
    print(
        f"  week: SPC alarms {totals['spc']} ({totals['spc'] / args.days:.1f} a day, "
        f"{totals['spc_critical']} critical), sensor alarms {totals['sensor']}, RCA cases {totals['cases']}; "
        + (
            f"the board calls something worse than the last 30 days on {len(worse_days)} days"
            if worse_days
            else "the board calls nothing worse than the last 30 days on any day"
        )
    )


if __name__ == "__main__":
    main()
