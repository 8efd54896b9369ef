"""``make spark-check``: the warehouse and the mining statistics of two demo days on DuckDB and on local
Spark, table by table.

Two factory days of the demo plant (data/scenarios/default.yaml, the first two days of the demo week) are
simulated into a Parquet lake in a temporary folder (not their per-cell genealogy: its millions of rows
would double Spark's part; tests/test_spark_daily_run.py, beside it, compares the ocel schema on the tiny
plant). dbt runs on that lake twice: ``dbt build`` with the DuckDB target into a temporary warehouse file
(in a process of its own, while Spark starts) and ``dbt run`` with the Spark target (dbt-spark's session
method, local[2], tables under the temporary folder) in this process; ``--with-tests`` makes the latter
``dbt build`` (the data and unit tests on Spark too). The mining statistics of the two days (the
directly-follows graph with waits, the variants and their throughput, start and end activities, bottlenecks
per activity and machine, rework loops and rates) are computed from each engine's
``marts.fct_process_events``: by the DuckDB statistics the platform runs (mining.window_run) and by
mining.spark_statistics. Every mart and every mining table is then compared: equal row counts and equal
values (doubles within a relative 1e-9), in any row order. One line per table, then ``spark: N of N tables
equal``; the exit status is 1 when any table differs or is missing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.dbt_runner import dbt_executable, dbt_target, window_environment
from orchestration.mining.bottlenecks import activity_bottlenecks, machine_bottlenecks
from orchestration.mining.case_steps import mart_events_sql
from orchestration.mining.flow import start_end_activities
from orchestration.mining.rework import rework_loops, rework_rates
from orchestration.mining.step_facts import counted_step_facts
from orchestration.mining.variants import DEFAULT_MIN_END_SHARE, flow_and_variants
from orchestration.settings import DATA_DIR, DBT_PROJECT_DIR

DEMO_DAYS = ("2026-11-09", "2026-11-10")  # the first two days of the demo week (Makefile DEMO_START)
DEMO_SCENARIO = DATA_DIR / "scenarios" / "default.yaml"
RELATIVE_TOLERANCE = 1e-9
SHUFFLE_PARTITIONS = 2


def simulate(lake: Path, first: str, days: int, scenario: Path = DEMO_SCENARIO) -> None:
    """The simulated factory's days into the lake, as ``gigafactory-simulate`` writes them."""
    from orchestration.simulator.cli import main as simulate_days

    status = simulate_days(
        ["--scenario", str(scenario), "--start", first, "--days", str(days), "--out", str(lake)]
    )
    if status:
        raise SystemExit(f"spark-check: the simulation failed ({status})")


def dbt_environment(engine: str, warehouse: Path, lake: Path, first: str, last: str) -> dict[str, str]:
    return {
        **os.environ,
        **window_environment(first, last),
        "GIGAFACTORY_WAREHOUSE": str(warehouse),
        "GIGAFACTORY_LAKE": str(lake),
        "GIGAFACTORY_DBT_TARGET": dbt_target(engine),
        "DBT_INDIRECT_SELECTION": "buildable",
    }


def start_duckdb_build(folder: Path, lake: Path, first: str, last: str) -> subprocess.Popen:
    """``dbt build`` on the DuckDB target, in a process of its own (it runs while Spark starts)."""
    command = [dbt_executable(), "build", "--quiet", "--target-path", str(folder / "target-duckdb")]
    command += ["--log-path", str(folder / "logs-duckdb")]
    environment = dbt_environment("duckdb", folder / "warehouse.duckdb", lake, first, last)
    return subprocess.Popen(
        command,
        cwd=DBT_PROJECT_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def spark_build(folder: Path, lake: Path, first: str, last: str, with_tests: bool = False) -> bool:
    """``dbt run`` on the Spark target in this process (dbt-spark's session method finds the session); with
    ``with_tests``, ``dbt build``: the data and unit tests on Spark too. Each statement costs Spark about 2 s
    whatever its size, and the 98 tests are three quarters of the statements; the tables compared are the
    same either way, and DuckDB's build, which they must equal, runs its tests."""
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_environment("spark", folder / "warehouse.duckdb", lake, first, last))
    os.environ["GIGAFACTORY_SPARK_WAREHOUSE"] = str(folder / "spark-warehouse")
    # two demo days are a few MB: as many shuffle partitions as cores (the profile's default is 4)
    os.environ["GIGAFACTORY_SPARK_PARTITIONS"] = str(SHUFFLE_PARTITIONS)
    command = "build" if with_tests else "run"
    arguments = [command, "--quiet", "--target", dbt_target("spark"), "--project-dir", str(DBT_PROJECT_DIR)]
    arguments += ["--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(folder / "target-spark")]
    arguments += ["--log-path", str(folder / "logs-spark")]
    result = dbtRunner().invoke(arguments)
    return bool(result.success)


def duckdb_mining(warehouse: Path, first: str, last: str) -> dict[str, pd.DataFrame]:
    """The window's statistics as the platform computes them in DuckDB (window_run.mine_window's)."""
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("set TimeZone = 'UTC'")
        conn.execute(f"create temp view window_events as {mart_events_sql(first, last)}")
        dfg, variants = flow_and_variants(conn, "window_events", DEFAULT_MIN_END_SHARE)
        with counted_step_facts(conn, "window_events") as facts:
            tables = {
                "dfg": dfg,
                "variants": variants.table,
                "throughput": variants.throughput,
                "start_end_activities": start_end_activities(conn, facts),
                "activity_bottlenecks": activity_bottlenecks(conn, facts),
                "machine_bottlenecks": machine_bottlenecks(conn, facts),
                "rework_loops": rework_loops(conn, facts),
                "rework_rates": rework_rates(conn, facts),
            }
    return tables


def spark_mining(spark, first: str, last: str) -> dict[str, pd.DataFrame]:
    from orchestration.mining.spark_statistics import mine_statistics

    spark.sql(mart_events_sql(first, last)).createOrReplaceTempView("window_events")
    return mine_statistics(spark, "window_events", DEFAULT_MIN_END_SHARE).tables


def duckdb_marts(warehouse: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        conn.execute("set TimeZone = 'UTC'")
        names = [
            name
            for (name,) in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' "
                "and table_type = 'BASE TABLE' order by 1"
            ).fetchall()
        ]
        return {name: conn.execute(f'select * from marts."{name}"').df() for name in names}


def spark_marts(spark) -> dict[str, pd.DataFrame]:
    names = sorted(t.name for t in spark.catalog.listTables("marts") if not t.isTemporary)
    return {name: _spark_frame(spark, f"select * from marts.`{name}`") for name in names}


def _spark_frame(spark, sql: str) -> pd.DataFrame:
    frame = spark.sql(sql)
    rows = frame.collect()
    return pd.DataFrame([tuple(r) for r in rows], columns=frame.columns)


# comparison


def _value(value):
    """One cell in a form both engines' frames agree on: numbers as float, instants as naive UTC, sequences as
    tuples, every missing value as None."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, bool):
        return value
    if hasattr(value, "dtype") and getattr(value, "ndim", 0) == 0 and value.dtype.kind == "b":
        return bool(value)
    if isinstance(value, (int, float, Decimal)) or (hasattr(value, "dtype") and value.dtype.kind in "iuf"):
        number = float(value)
        return None if math.isnan(number) else number
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        stamp = pd.Timestamp(value)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        return stamp.isoformat()
    if isinstance(value, dt.date):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, (list, tuple)) or (hasattr(value, "tolist") and not isinstance(value, str)):
        return tuple(_value(v) for v in (value.tolist() if hasattr(value, "tolist") else value))
    return value


def _rows(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    return [tuple(_value(v) for v in row) for row in frame[columns].itertuples(index=False, name=None)]


def _sort_key(row: tuple) -> tuple:
    """Rows in an order both engines' rows share: floats to 6 significant digits (last bits differ), the
    rest as text, missing first."""
    return tuple(
        (0, "") if v is None else (1, f"{v:.6g}") if isinstance(v, float) else (1, repr(v)) for v in row
    )


def _same(left, right) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-9)
    if isinstance(left, tuple) and isinstance(right, tuple):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    return left == right


def compare(duckdb_frame: pd.DataFrame | None, spark_frame: pd.DataFrame | None) -> tuple[bool, str]:
    """(equal, what was compared or where they differ)."""
    if duckdb_frame is None or spark_frame is None:
        return False, "missing on " + ("DuckDB" if duckdb_frame is None else "Spark")
    columns = list(duckdb_frame.columns)
    if set(columns) != set(spark_frame.columns):
        only_duckdb = sorted(set(columns) - set(spark_frame.columns))
        only_spark = sorted(set(spark_frame.columns) - set(columns))
        return False, f"columns differ: only DuckDB {only_duckdb}, only Spark {only_spark}"
    if len(duckdb_frame) != len(spark_frame):
        return False, f"rows {len(duckdb_frame)} (DuckDB) vs {len(spark_frame)} (Spark)"
    left = sorted(_rows(duckdb_frame, columns), key=_sort_key)
    right = sorted(_rows(spark_frame, columns), key=_sort_key)
    differing = {
        column
        for a, b in zip(left, right, strict=True)
        for column, x, y in zip(columns, a, b, strict=True)
        if not _same(x, y)
    }
    if differing:
        example = next(
            (columns[i], a[i], b[i])
            for a, b in zip(left, right, strict=True)
            for i in range(len(columns))
            if not _same(a[i], b[i])
        )
        return False, (
            f"{len(left)} rows; values differ in {', '.join(sorted(differing))} "
            f"(e.g. {example[0]}: {example[1]!r} vs {example[2]!r})"
        )
    return True, f"{len(left)} rows, {len(columns)} columns"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spark-check", description=__doc__.splitlines()[0])
    parser.add_argument("--first", default=DEMO_DAYS[0], help="first factory day (YYYY-MM-DD)")
    parser.add_argument("--days", type=int, default=len(DEMO_DAYS), help="factory days")
    parser.add_argument("--scenario", type=Path, default=DEMO_SCENARIO)
    parser.add_argument(
        "--keep", type=Path, help="work in this folder and keep it (default: a temporary one)"
    )
    parser.add_argument(
        "--with-tests", action="store_true", help="dbt build on Spark: its data and unit tests too (slower)"
    )
    args = parser.parse_args(argv)
    began = time.perf_counter()
    os.environ["TZ"] = "UTC"  # the Spark rows' instants come back in the process's zone
    time.tzset()
    first = dt.date.fromisoformat(args.first)
    last = (first + dt.timedelta(days=args.days - 1)).isoformat()
    first = first.isoformat()

    with tempfile.TemporaryDirectory(prefix="spark-check-") as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        lake = folder / "lake"
        simulate(lake, first, args.days, args.scenario)
        print(f"spark-check: {args.days} days {first}..{last} of {args.scenario.name} simulated", flush=True)
        duckdb_build = start_duckdb_build(folder, lake, first, last)

        from orchestration.engines.spark_session import local_spark

        spark = local_spark(folder / "spark-warehouse", partitions=SHUFFLE_PARTITIONS)
        started = time.perf_counter()
        built_on_spark = spark_build(folder, lake, first, last, args.with_tests)
        spark_seconds = time.perf_counter() - started
        output, _ = duckdb_build.communicate()
        if duckdb_build.returncode:
            print(output)
            print("spark-check: dbt build failed on DuckDB")
            return 1
        outcome = "passed" if built_on_spark else "FAILED"
        what = "build (models and tests)" if args.with_tests else "run (models)"
        print(f"spark-check: dbt {what} on Spark {outcome} in {spark_seconds:.0f} s")

        tables: dict[str, tuple[pd.DataFrame | None, pd.DataFrame | None]] = {}
        on_duckdb, on_spark = duckdb_marts(folder / "warehouse.duckdb"), spark_marts(spark)
        for name in sorted(set(on_duckdb) | set(on_spark)):
            tables[f"marts.{name}"] = (on_duckdb.get(name), on_spark.get(name))
        mined_duckdb = duckdb_mining(folder / "warehouse.duckdb", first, last)
        started = time.perf_counter()
        try:
            mined_spark = spark_mining(spark, first, last)
        except Exception as error:  # a missing mart: every mining table is reported missing on Spark
            print(f"spark-check: mining on Spark failed: {str(error).splitlines()[0]}")
            mined_spark = {}
        print(f"spark-check: mining statistics on Spark in {time.perf_counter() - started:.0f} s")
        for name, frame in mined_duckdb.items():
            tables[f"mining.{name}"] = (frame, mined_spark.get(name))
        spark.stop()

        equal = 0
        width = max(len(name) for name in tables)
        for name, (left, right) in tables.items():
            same, detail = compare(left, right)
            equal += same
            print(f"{name:<{width}}  {'equal' if same else 'DIFFERS'}  {detail}")
    print(f"spark: {equal} of {len(tables)} tables equal")
    print(f"spark-check: wall time {time.perf_counter() - began:.0f} s")
    return 0 if equal == len(tables) and built_on_spark else 1


if __name__ == "__main__":
    sys.exit(main())
