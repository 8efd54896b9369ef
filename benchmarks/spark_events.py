"""The per-event cost of the mining statistics on local Apache Spark against DuckDB, on the same events.

The events of benchmarks/mining_scale.py (cells as cases on the plant's 11-step route, coating rework, skipped
drying) are written once as Parquet; then, each in a fresh child process on the same 2 cores:

- DuckDB: the statistics of a mining window as the platform computes them (variants.flow_and_variants:
  the directly-follows graph with waits, variants and throughput; step_facts with the bottlenecks, rework
  and start and end activities), straight over the Parquet files;
- Spark: the same tables by orchestration.mining.spark_statistics over the same files (local[2], the
  session as spark-check starts it, driver memory GIGAFACTORY_SPARK_DRIVER_MEMORY or 6g).

Wall times include reading the Parquet files, not starting the JVM (timed apart). Printed: events, seconds,
microseconds per event, the ratio Spark / DuckDB, whether both found the same DFG counts and variants, and the
Parquet bytes per event.

    .venv/bin/python benchmarks/spark_events.py --events 1000000 10000000

Run by hand (make spark-check installs pyspark), never as a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def duckdb_route(folder: Path) -> dict:
    import duckdb

    from orchestration.mining.bottlenecks import activity_bottlenecks, machine_bottlenecks
    from orchestration.mining.flow import start_end_activities
    from orchestration.mining.rework import rework_loops, rework_rates
    from orchestration.mining.step_facts import counted_step_facts
    from orchestration.mining.variants import DEFAULT_MIN_END_SHARE, flow_and_variants

    events = f"read_parquet('{folder}/*.parquet')"
    with duckdb.connect() as conn:
        for setting in ("threads = 2", "memory_limit = '4GB'", "enable_progress_bar = false"):
            conn.execute(f"set {setting}")
        conn.execute(f"set temp_directory = '{folder.parent / 'duckdb_spill'}'")
        started = time.perf_counter()
        dfg, variants = flow_and_variants(conn, events, DEFAULT_MIN_END_SHARE)
        with counted_step_facts(conn, events) as facts:
            activity_bottlenecks(conn, facts)
            machine_bottlenecks(conn, facts)
            rework_loops(conn, facts)
            rework_rates(conn, facts)
            start_end_activities(conn, facts)
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "dfg": sorted([s, t, int(n)] for s, t, n in zip(dfg.source, dfg.target, dfg.frequency, strict=True)),
        "variants": sorted([list(v), n] for v, n in variants.counts()),
    }


def spark_route(folder: Path) -> dict:
    from orchestration.engines.spark_session import local_spark
    from orchestration.mining.spark_statistics import mine_statistics
    from orchestration.mining.variants import DEFAULT_MIN_END_SHARE

    os.environ.setdefault("GIGAFACTORY_SPARK_DRIVER_MEMORY", "6g")
    started = time.perf_counter()
    spark = local_spark(folder.parent / "spark-warehouse")
    spark.sql("select 1").collect()
    startup = time.perf_counter() - started
    started = time.perf_counter()
    spark.read.parquet(str(folder)).createOrReplaceTempView("events")
    mined = mine_statistics(spark, "events", DEFAULT_MIN_END_SHARE)
    seconds = time.perf_counter() - started
    spark.stop()
    dfg = mined.tables["dfg"]
    return {
        "seconds": seconds,
        "startup_seconds": startup,
        "dfg": sorted([s, t, int(n)] for s, t, n in zip(dfg.source, dfg.target, dfg.frequency, strict=True)),
        "variants": sorted([list(v), n] for v, n in mined.variants),
    }


def child(route: str, folder: Path) -> dict:
    """One route in a fresh process: its result as JSON on the last line of stdout."""
    output = subprocess.run(
        [sys.executable, __file__, "--child", route, "--folder", str(folder)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--child", choices=["duckdb", "spark"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = duckdb_route(args.folder) if args.child == "duckdb" else spark_route(args.folder)
        print(json.dumps(result))
        return 0

    from mining_scale import generate

    for target in args.events:
        with tempfile.TemporaryDirectory(prefix="spark-events-") as temporary:
            folder = Path(temporary) / "events"
            events = generate(target, folder)
            ours = child("duckdb", folder)
            spark = child("spark", folder)
            same = ours["dfg"] == spark["dfg"] and ours["variants"] == spark["variants"]
            stored = sum(f.stat().st_size for f in folder.glob("*.parquet"))
            duck, local = ours["seconds"], spark["seconds"]
            print(
                f"{events:>11,} events: DuckDB {duck:.1f} s ({duck / events * 1e6:.2f} us/event), "
                f"Spark local[2] {local:.1f} s ({local / events * 1e6:.2f} us/event; "
                f"+{spark['startup_seconds']:.0f} s JVM start), Spark / DuckDB {local / duck:.1f}x; "
                f"DFG and variants {'equal' if same else 'DIFFER'}; Parquet {stored / events:.1f} B/event",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
