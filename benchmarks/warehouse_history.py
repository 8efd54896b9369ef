"""Five years of daily history at the default scale: how fast one-year queries answer, how big it gets.

    python benchmarks/warehouse_history.py [--years 5] [--work /tmp/warehouse_history]

One simulated week of the default plant (2026-11-09 to 15, telemetry included) is landed and built by dbt, as
the platform does; then every mart's week is replicated with dates shifted by whole weeks back until it spans
the requested years (the weekday pattern of shifts and crews is kept). On that warehouse, each query runs five
times on a fresh read-only connection and the median is printed:

- one year of ``fct_oee_line_day``: OEE per line and month, summed before the ratios (ISO 22400);
- one year of ``fct_shift_comparison``: the crew ranking, mean adjusted OEE with a 95 % interval.

The peer for the first query is pandas on the same year's rows, already in memory (its load time not counted).
Target: each query under 1 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402

from orchestration.lake.writer import write_partition  # noqa: E402
from orchestration.simulator import load_scenario  # noqa: E402
from orchestration.simulator.engine import run_factory_day  # noqa: E402

WEEK_START = date(2026, 11, 9)

LINE_YEAR = """
select line_id, date_trunc('month', production_date) as month,
       sum(actual_production_time_s) / sum(planned_busy_time_s) as availability,
       sum(planned_runtime_of_output_s) / sum(actual_production_time_s) as effectiveness,
       sum(good_qty) / sum(produced_qty) as quality_ratio,
       sum(actual_production_time_s) / sum(planned_busy_time_s)
         * sum(planned_runtime_of_output_s) / sum(actual_production_time_s)
         * sum(good_qty) / sum(produced_qty) as oee
from marts.fct_oee_line_day
where production_date between date '{start}' and date '{end}'
group by all order by all
"""

CREW_YEAR = """
select crew_id, count(*) as shifts, avg(oee_adjusted) as oee_adjusted,
       avg(oee_adjusted) - 1.96 * stddev_samp(oee_adjusted) / sqrt(count(*)) as ci_low,
       avg(oee_adjusted) + 1.96 * stddev_samp(oee_adjusted) / sqrt(count(*)) as ci_high,
       avg(output_per_staffed_hour) as output_per_staffed_hour
from marts.fct_shift_comparison
where production_date between date '{start}' and date '{end}'
group by crew_id order by oee_adjusted desc
"""


def build_week(work: Path) -> Path:
    lake, warehouse = work / "lake", work / "warehouse.duckdb"
    config = load_scenario(REPO / "data" / "scenarios" / "default.yaml")
    for offset in range(7):
        day = WEEK_START + timedelta(days=offset)
        simulated = run_factory_day(config, day)
        for table, data in simulated.tables.items():
            write_partition(lake, table, day.isoformat(), data)
        write_partition(lake, "sensor_readings", day.isoformat(), simulated.telemetry.batches())
        for table, data in simulated.truth.items():
            write_partition(lake, table, day.isoformat(), data, layer="truth")
    env = {
        **os.environ,
        "GIGAFACTORY_WAREHOUSE": str(warehouse),
        "GIGAFACTORY_LAKE": str(lake),
        "DO_NOT_TRACK": "1",
    }
    subprocess.run(
        [
            sys.executable,
            "-m",
            "dbt.cli.main",
            "run",
            "--profiles-dir",
            ".",
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        cwd=REPO / "dbt_project",
        env=env,
        check=True,
        capture_output=True,
    )
    return warehouse


def replicate(warehouse: Path, weeks: int) -> dict[str, int]:
    """Copy every mart's week ``weeks - 1`` times, each copy shifted a week further back."""
    with duckdb.connect(str(warehouse)) as con:
        marts = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.columns where table_schema = 'marts'"
                " and column_name = 'production_date' and table_name in (select table_name from"
                " information_schema.tables where table_schema = 'marts' and table_type = 'BASE TABLE')"
            ).fetchall()
        ]
        counts = {}
        for mart in sorted(set(marts)):
            columns = con.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = 'marts' and table_name = ? order by ordinal_position",
                [mart],
            ).fetchall()
            shifted = []
            for name, data_type in columns:
                if name == "production_date" or data_type == "DATE":
                    shifted.append(f"{name} - w.days as {name}")
                elif data_type.startswith("TIMESTAMP"):
                    shifted.append(f"{name} - to_days(w.days) as {name}")
                elif name == "shift_id":  # "<date>-<shift name>"
                    shifted.append(
                        f"strftime(production_date - w.days, '%Y-%m-%d') || substr(shift_id, 11) as {name}"
                    )
                else:
                    shifted.append(name)
            con.execute(
                f"insert into marts.{mart} select {', '.join(shifted)}"
                f" from marts.{mart},"
                f" (select cast(7 * k as integer) as days from range(1, {weeks}) as r(k)) as w"
            )
            counts[mart] = con.execute(f"select count(*) from marts.{mart}").fetchone()[0]
        con.execute("checkpoint")
    return counts


def median_seconds(warehouse: Path, sql: str, repeats: int = 5) -> tuple[float, list[tuple]]:
    times, result = [], []
    for _ in range(repeats):
        with duckdb.connect(str(warehouse), read_only=True) as con:
            began = time.perf_counter()
            result = con.execute(sql).fetchall()
            times.append(time.perf_counter() - began)
    return statistics.median(times), result


def pandas_line_year(warehouse: Path, start: date, end: date) -> float:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        frame = con.execute(
            "select * from marts.fct_oee_line_day where production_date between ? and ?", [start, end]
        ).df()
    times = []
    for _ in range(5):
        began = time.perf_counter()
        frame["month"] = frame["production_date"].astype("datetime64[ns]").dt.to_period("M")
        sums = frame.groupby(["line_id", "month"])[
            [
                "actual_production_time_s",
                "planned_busy_time_s",
                "planned_runtime_of_output_s",
                "good_qty",
                "produced_qty",
            ]
        ].sum()
        oee = (
            (sums.actual_production_time_s / sums.planned_busy_time_s)
            * (sums.planned_runtime_of_output_s / sums.actual_production_time_s)
            * (sums.good_qty / sums.produced_qty)
        )
        oee.sort_index()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=float, default=5.0)
    parser.add_argument("--work", type=Path, default=Path("/tmp/warehouse_history"))
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    weeks = round(args.years * 365.25 / 7)

    began = time.perf_counter()
    warehouse = build_week(args.work)
    print(f"one simulated week landed and built by dbt: {time.perf_counter() - began:.1f} s")
    began = time.perf_counter()
    counts = replicate(warehouse, weeks)
    first = WEEK_START - timedelta(days=7 * (weeks - 1))
    print(
        f"replicated to {weeks} weeks ({first} .. {WEEK_START + timedelta(days=6)}):"
        f" {time.perf_counter() - began:.1f} s"
    )
    for mart, count in counts.items():
        print(f"  marts.{mart:<32} {count:>12,} rows")
    size = sum(p.stat().st_size for p in args.work.glob("warehouse.duckdb*"))
    print(f"warehouse size: {size / 2**30:.2f} GiB ({warehouse})")

    end = WEEK_START + timedelta(days=6)
    start = end - timedelta(days=364)
    window = {"start": start, "end": end}
    line_s, line_rows = median_seconds(warehouse, LINE_YEAR.format(**window))
    crew_s, crew_rows = median_seconds(warehouse, CREW_YEAR.format(**window))
    peer_s = pandas_line_year(warehouse, start, end)
    print(f"one year ({start} .. {end}), median of 5 on a fresh read-only connection:")
    print(
        f"  fct_oee_line_day, OEE per line and month: {line_s * 1000:.1f} ms ({len(line_rows)} rows)"
        f"; pandas on the rows in memory: {peer_s * 1000:.1f} ms (ratio {peer_s / line_s:.2f}x)"
    )
    print(f"  fct_shift_comparison, crew ranking with 95% intervals: {crew_s * 1000:.1f} ms")
    for crew in crew_rows:
        print(
            f"    crew {crew[0]}: {crew[1]} shifts, adjusted OEE {crew[2]:.3f}"
            f" [{crew[3]:.3f}, {crew[4]:.3f}],"
            f" {crew[5]:.1f} cells per staffed hour"
        )
    print("    (one week repeated: the intervals are narrower than real history would give)")
    target_met = line_s < 1 and crew_s < 1
    print(f"target (each under 1 s): {'met' if target_met else 'MISSED'}")
    return 0 if target_met else 1


if __name__ == "__main__":
    raise SystemExit(main())
