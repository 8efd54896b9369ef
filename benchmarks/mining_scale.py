"""Process-mining statistics at gigafactory scale: our DuckDB route against pm4py on a pandas frame.

Events are generated with DuckDB (cells as cases, the plant's 11-step route with coating rework and a few
skipped steps) into Parquet files of about 10M events each, so generation fits in memory at any size. Ours:
the directly-follows graph with waiting times, the variants and the throughput-time distribution from one
sort of the events (orchestration.mining.variants.flow_and_variants) straight over the Parquet files, a
bucket of about 10M events' cases at a time beyond that (orchestration.mining.buckets), DuckDB with 2
threads and a memory limit (spilling to disk beyond it); then, timed apart and not compared, the rest of a
mining window's statistics (bottlenecks, rework, start and end activities: orchestration.mining.step_facts).
The peer: the same events' columns read into pandas, then pm4py's ``format_dataframe``, ``discover_dfg``,
``get_variants`` and ``get_all_case_durations``, within 20 GiB of address space. Each route runs in a fresh
child process; its wall time and peak resident memory (``ru_maxrss`` of the child, everything included) are
printed, with the ratios and whether both found the same DFG counts and variants.

    .venv/bin/python benchmarks/mining_scale.py --events 1000000 10000000
    .venv/bin/python benchmarks/mining_scale.py --events 150000000 --ours-only   # a month at full scale
    .venv/bin/python benchmarks/mining_scale.py --events 150000000 --ours-only --workdir /big/disk  # kept
    .venv/bin/python benchmarks/mining_scale.py --levy   # fitness, precision on the whole Levy log vs pm4py

Run by hand, never as a timed test.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROUTE = [
    "Mixing",
    "Coating",
    "Drying",
    "Calendering",
    "Slitting",
    "Stacking",
    "Tab Welding",
    "Electrolyte Filling",
    "Formation",
    "Aging",
    "Grading",
]
CHUNK_CELLS = 1_000_000  # cells per Parquet file: about 11M events
MACHINE_GIB = 23
PEER_GIB = 20  # the pandas route's address space: the machine less what the system and DuckDB need


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def generate(events: int, folder: Path) -> int:
    """About ``events`` step events of cells as cases into ``folder``/part-*.parquet; returns the events."""
    cells = events // len(ROUTE)
    steps = ", ".join(f"({i}, '{a}')" for i, a in enumerate(ROUTE))
    folder.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as conn:
        conn.execute("set preserve_insertion_order = false")
        conn.execute("set enable_progress_bar = false")
        for part, first in enumerate(range(0, cells, CHUNK_CELLS)):
            conn.execute(
                f"""
                copy (
                    with cells as (
                        select range as cell, hash(range) % 1000 as draw
                        from range({first}, {min(first + CHUNK_CELLS, cells)})
                    ),
                    route as (select * from (values {steps}) as r(position, activity)),
                    passes as (  -- 3 % of the cells pass Coating twice, 1 % skip Drying
                        select cell, position, activity, 0 as pass from cells, route
                        where not (activity = 'Drying' and draw < 10)
                        union all
                        select cell, position, activity, 1 from cells, route
                        where activity = 'Coating' and draw >= 970
                    )
                    select
                        'C' || lpad(cell::varchar, 9, '0') as case_id,
                        activity,
                        left(activity, 4) || '-' || lpad((hash(cell) % 7)::varchar, 2, '0') as machine_id,
                        null::varchar as shift_id,
                        timestamptz '2026-11-01 05:00:00+00'
                            + to_seconds(cell * 0.17 + position * 3600 + pass * 1800
                                         + hash(cell, position) % 600) as start_ts,
                        timestamptz '2026-11-01 05:00:00+00'
                            + to_seconds(cell * 0.17 + position * 3600 + pass * 1800 + 1500
                                         + hash(cell, position) % 600) as end_ts,
                        cell * 32 + position * 2 + pass as event_seq
                    from passes
                ) to '{folder / f"part-{part:04d}.parquet"}' (format parquet)
                """
            )
        return conn.execute(f"select count(*) from read_parquet('{folder}/*.parquet')").fetchall()[0][0]


def ours(folder: Path, memory_limit: str) -> dict:
    """Child process: our DFG + variants + throughput over the Parquet files, then the bottlenecks, rework
    and start/end activities."""
    from orchestration.mining.bottlenecks import activity_bottlenecks
    from orchestration.mining.flow import start_end_activities
    from orchestration.mining.rework import rework_loops, rework_rates
    from orchestration.mining.step_facts import counted_step_facts
    from orchestration.mining.variants import flow_and_variants

    events = f"read_parquet('{folder}/*.parquet')"
    with duckdb.connect() as conn:
        for setting in ("threads = 2", f"memory_limit = '{memory_limit}'", "enable_progress_bar = false"):
            conn.execute(f"set {setting}")
        conn.execute("set preserve_insertion_order = false")  # no statistic here depends on row order
        conn.execute(f"set temp_directory = '{folder.parent / 'duckdb_spill'}'")
        baseline = peak_rss_mib()
        started = time.perf_counter()
        dfg, variants = flow_and_variants(conn, events, min_share=0.0)  # one sort of the events for both
        seconds = time.perf_counter() - started
        peak = peak_rss_mib()
        # The rest of a mining window's statistics, not compared (pm4py has no counterpart in one call).
        started = time.perf_counter()
        with counted_step_facts(conn, events) as facts:
            stages = activity_bottlenecks(conn, facts)
            rework_loops(conn, facts)
            rework_rates(conn, facts)
            start_end_activities(conn, facts)
        more_seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak_mib": peak,
        "baseline_mib": baseline,
        "more_seconds": more_seconds,
        "more_peak_mib": peak_rss_mib(),
        "bottleneck": str(stages.loc[stages["limits_throughput"], "activity"].iloc[0]),
        "dfg": [[s, t, int(n)] for s, t, n in zip(dfg.source, dfg.target, dfg.frequency, strict=True)],
        "variants": [[list(v), n] for v, n in variants.counts()],
        "median_throughput_s": float(variants.throughput.set_index("statistic").loc["q050", "throughput_s"]),
    }


def with_pm4py(folder: Path) -> dict:
    """Child process: the events into pandas, then pm4py's DFG, variants and case durations."""
    import pandas as pd
    import pm4py

    baseline = peak_rss_mib()
    started = time.perf_counter()
    frame = pd.read_parquet(folder, columns=["case_id", "activity", "start_ts", "end_ts"])
    frame = pm4py.format_dataframe(frame, case_id="case_id", activity_key="activity", timestamp_key="end_ts")
    dfg, _, _ = pm4py.discover_dfg(frame)
    variants = pm4py.get_variants(frame)
    durations = pm4py.get_all_case_durations(frame)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak_mib": peak_rss_mib(),
        "baseline_mib": baseline,
        "dfg": [[s, t, int(n)] for (s, t), n in dfg.items()],
        "variants": [[list(v), int(n)] for v, n in variants.items()],
        "cases": len(durations),
    }


def run_child(route: str, folder: Path, memory_limit: str) -> dict:
    command = [sys.executable, __file__, "--child", route, "--folder", str(folder)]
    command += ["--memory-limit", memory_limit]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if "Error" in line]  # DuckDB's, not its hints
        failure = errors[-1] if errors else f"exit code {done.returncode}"
        return {"failed": f"{failure} (after {time.perf_counter() - started:.0f} s)"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def cap_address_space(gib: float) -> None:
    """The pandas route may take at most ``gib`` of address space: beyond it, a MemoryError in the child
    rather than the whole machine swapping or the kernel killing whatever holds most memory."""
    limit = int(gib * 1024**3)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def compare(events: int, workdir: Path, ours_only: bool, memory_limit: str) -> None:
    folder = workdir / f"events_{events}"
    started = time.perf_counter()
    if any(folder.glob("*.parquet")):  # kept from an earlier run in --workdir
        written = duckdb.sql(f"select count(*) from read_parquet('{folder}/*.parquet')").fetchall()[0][0]
        made = "found"
    else:
        written = generate(events, folder)
        made = f"generated in {time.perf_counter() - started:.1f} s"
    size = sum(f.stat().st_size for f in folder.glob("*.parquet"))
    print(f"\n{written:,} events {made} ({size / 1e6:,.0f} MB in {folder})")
    duck = run_child("ours", folder, memory_limit)
    if "failed" in duck:
        print(f"  ours (DuckDB over Parquet, memory_limit {memory_limit}): failed: {duck['failed']}")
        return
    print(
        f"  ours (DuckDB over Parquet, 2 threads, memory_limit {memory_limit}): {duck['seconds']:7.1f} s, "
        f"peak RSS {duck['peak_mib']:7,.0f} MiB (after imports {duck['baseline_mib']:,.0f} MiB)"
    )
    cases = sum(n for _, n in duck["variants"])
    steps = sum(n for _, _, n in duck["dfg"])
    print(
        f"  found: {cases:,} cases in {len(duck['variants']):,} variants, {len(duck['dfg'])} edges "
        f"(cases + directly-follows steps = {cases + steps:,} events), "
        f"median throughput {duck['median_throughput_s'] / 3600:.2f} h"
    )
    print(
        f"  then bottlenecks, rework loops and rates, start/end activities: {duck['more_seconds']:.1f} s, "
        f"peak RSS {duck['more_peak_mib']:,.0f} MiB (limiting stage: {duck['bottleneck']})"
    )
    if ours_only:
        print("  pm4py on pandas: not run (see the estimate from the 10M-event peak)")
        return
    peer = run_child("pm4py", folder, memory_limit)
    if "failed" in peer:
        print(f"  pm4py (pandas frame, at most {PEER_GIB} GiB): failed: {peer['failed']}")
        return
    print(
        f"  pm4py (pandas frame):                                  {peer['seconds']:7.1f} s, "
        f"peak RSS {peer['peak_mib']:7,.0f} MiB (after imports {peer['baseline_mib']:,.0f} MiB)"
    )
    same_dfg = {(s, t): n for s, t, n in duck["dfg"]} == {(s, t): n for s, t, n in peer["dfg"]}
    same_variants = {tuple(v): n for v, n in duck["variants"]} == {tuple(v): n for v, n in peer["variants"]}
    print(f"  same DFG counts: {same_dfg}; same variant counts: {same_variants}")
    print(
        f"  ratio pm4py / ours: time {peer['seconds'] / duck['seconds']:.1f}x, "
        f"peak memory {peer['peak_mib'] / duck['peak_mib']:.1f}x"
    )
    # What the frame and pm4py add above the imports grows with the events: scaled to a 150M-event month.
    month_gib = (peer["baseline_mib"] + (peer["peak_mib"] - peer["baseline_mib"]) * 150e6 / written) / 1024
    print(
        f"  pandas route at 150M events, scaled from this peak: ~{month_gib:,.0f} GiB "
        f"(machine: {MACHINE_GIB} GiB)"
    )


def levy_precision() -> None:
    import pm4py

    from orchestration.mining.discovery import discover_process_model
    from orchestration.mining.event_log import variant_log
    from orchestration.mining.model_quality import evaluate_model
    from orchestration.mining.variants import route_variants

    source = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "production_levy2014.csv.gz"
    with duckdb.connect() as conn:
        conn.execute(
            f"""create table levy as select case_id, Activity as activity, end_time::timestamp as end_ts,
                start_time::timestamp as start_ts, row_number() over () as event_seq
                from read_csv('{source}', header = true, all_varchar = true)"""
        )
        frame = pm4py.format_dataframe(
            conn.execute("select case_id, activity, end_ts from levy order by event_seq").df(),
            case_id="case_id",
            activity_key="activity",
            timestamp_key="end_ts",
        )
        counts = route_variants(conn, "levy", min_share=0.0).counts()
    model = discover_process_model(variant_log(counts), noise_threshold=0.2)
    started = time.perf_counter()
    quality = evaluate_model(counts, model, max_variants=len(counts), align_variants=0)
    print(
        f"ours:  fitness {quality.token_fitness:.9f} precision {quality.precision:.9f} "
        f"({time.perf_counter() - started:.0f} s)"
    )
    net, im, fm = pm4py.discover_petri_net_inductive(frame, noise_threshold=0.2)
    started = time.perf_counter()
    fitness = pm4py.fitness_token_based_replay(frame, net, im, fm)["log_fitness"]
    precision = pm4py.precision_token_based_replay(frame, net, im, fm)
    print(f"pm4py: fitness {fitness:.9f} precision {precision:.9f} ({time.perf_counter() - started:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--ours-only", action="store_true", help="skip the pandas route (for ~150M events)")
    parser.add_argument("--levy", action="store_true", help="only compare fitness and precision on Levy")
    parser.add_argument("--memory-limit", default="500MB", help="DuckDB's memory limit for our route")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where the Parquet files go and stay (default: a temp dir)"
    )
    parser.add_argument("--child", choices=["ours", "pm4py"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child == "pm4py":
            cap_address_space(PEER_GIB)
        result = ours(args.folder, args.memory_limit) if args.child == "ours" else with_pm4py(args.folder)
        print(json.dumps(result))
        return
    if args.levy:
        levy_precision()
        return
    if args.workdir is not None:  # kept: a later run over the same events skips their generation
        for events in args.events:
            compare(events, args.workdir, args.ours_only, args.memory_limit)
        return
    with tempfile.TemporaryDirectory() as workdir:
        for events in args.events:
            compare(events, Path(workdir), args.ours_only, args.memory_limit)


if __name__ == "__main__":
    main()
