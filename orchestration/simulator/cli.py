"""Simulate factory days into a Parquet lake: ``<out>/raw/<table>/date=YYYY-MM-DD/part-0.parquet``.

The day's ground truth (planted effects, sensor anomalies) goes to ``<out>/truth/<table>/date=.../``.

    python -m orchestration.simulator.cli --scenario data/scenarios/default.yaml --start 2026-11-09 --days 3 \
        --out /tmp/lake
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

from orchestration.command_line import Parser, factory_day
from orchestration.lake.writer import write_partition
from orchestration.simulator.config import load_scenario
from orchestration.simulator.engine import run_factory_day
from orchestration.simulator.line_state import LineStates


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="gigafactory-simulate", description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, required=True, help="scenario YAML (layered over its base)")
    parser.add_argument("--start", type=factory_day, required=True, help="first factory day, YYYY-MM-DD")
    parser.add_argument("--days", type=int, default=1, help="number of consecutive factory days")
    parser.add_argument("--out", type=Path, required=True, help="lake directory")
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days must be at least 1")
    try:
        config = load_scenario(args.scenario)
    except (ValueError, OSError) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    states = LineStates(args.out / "simulator")  # the line's state at each day's start, beside the lake
    for offset in range(args.days):
        day = args.start + timedelta(days=offset)
        began = time.perf_counter()
        try:
            simulated = run_factory_day(config, day, states)
        except ValueError as exc:  # a day before the plant's first
            print(f"{parser.prog}: error: {exc}", file=sys.stderr)
            return 2
        rows = {
            table: write_partition(args.out, table, day.isoformat(), data)
            for table, data in simulated.tables.items()
        }
        rows["sensor_readings"] = write_partition(
            args.out, "sensor_readings", day.isoformat(), simulated.telemetry.batches()
        )
        for table, data in simulated.truth.items():
            rows[f"truth.{table}"] = write_partition(args.out, table, day.isoformat(), data, layer="truth")
        rows = ", ".join(f"{table} {count}" for table, count in rows.items())
        print(f"{day}: {time.perf_counter() - began:.2f} s; {rows}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
