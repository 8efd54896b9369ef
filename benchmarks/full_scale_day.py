"""One factory day at full scale (~300 k cells) through the whole asset graph and the genealogy, and a 30-day
per-cell window's mining statistics.

    .venv/bin/python benchmarks/full_scale_day.py [--scenario data/scenarios/default.yaml] [--scale 1.0]
        [--day 2026-11-10] [--sample-batches 3] [--window-days 30] [--memory-limit 4GB]
        [--parts graph,genealogy,window]

Three parts, each in a process of its own (so that one part's memory is not counted in the next's), each
timed per stage; the scenario is ``--scenario`` at ``--scale``, written to a temporary folder:

graph
    The daily pipeline for ``--day`` exactly as a plant runs it (``make demo``): ``python -m
    orchestration.backfill --from DAY --to DAY`` in a subprocess, on a fresh plant in the temporary folder
    (lake, warehouse, state file, reports, Dagster instance: the GIGAFACTORY_* variables and DAGSTER_HOME).
    Its own per-stage lines are echoed as they come; afterwards the wall time of every Dagster step, read
    from the run's STEP_START / STEP_SUCCESS events in that instance, grouped by stage. Memory: the peak of
    the summed resident memory of the whole process tree (the command, dbt's subprocesses), sampled from
    /proc with psutil every 0.5 s, and the largest single process's peak (``wait4``'s ru_maxrss).
genealogy
    In one process: the simulated day, ``expand_day`` (objects and events per type printed), a forward trace
    from a slurry batch and from one coil segment and a backward trace from one of their cells, the OCEL 2.0
    SQLite export, and the object-centric DFG of the whole day, each with the process's peak resident memory
    so far (ru_maxrss). Then the peer: the OC-DFG of a few batches' sub-log (their events and every object
    those name) by our DuckDB query and by pm4py's ``discover_ocdfg``; the edge counts must be equal, and the
    speed ratio is printed.
window
    ``--window-days`` consecutive days ending on ``--day``, simulated and expanded one at a time, each day's
    five OCEL tables written to Parquet and dropped (bounded memory; the days before the window simulated
    for the batches' history, their objects written); then over all of them, by DuckDB on the Parquet
    (``mining.window``: ``--memory-limit``, spilling to a temporary directory; ``mining.window_statistics``:
    a part of ~8 M relations at a time), the OC-DFG per object type, lead times per object type and
    convergence / divergence per activity and object type. ``--window-folder`` keeps the Parquet (and
    reuses it when it holds the days already).

The issue's goal: the whole day under 15 minutes and 8 GiB on the 2-core machine, the window within the same
memory. Run by hand, never as a timed test: at scale 1.0 it takes several CPU-minutes.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PARTS = ("graph", "genealogy", "window")
GOAL_S, GOAL_GIB = 15 * 60, 8.0
GIB = 2**30
HISTORY_DAYS = 3  # days simulated before the window, for its first days' batches
RELATIONS_PER_PART = 8_000_000  # the window's statistics: about this many relations per part in memory


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def stage(name: str, work: Callable, totals: dict[str, float]):
    began = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - began
    totals[name] = seconds
    print(f"{name:38s} {seconds:8.2f} s   peak RSS {peak_rss_mib():7.0f} MiB", flush=True)
    return result


class TreeMemory:
    """The summed resident memory of a process and all its descendants, sampled every ``every_s`` seconds
    from /proc (psutil): ``peak`` in bytes. Shared pages count once per process (RSS, not PSS)."""

    def __init__(self, pid: int, every_s: float = 0.5):
        import psutil

        self.root, self.every_s, self.peak, self.samples = psutil.Process(pid), every_s, 0, 0
        self.per_process: dict[int, tuple[int, str]] = {}  # pid -> (peak RSS, what it runs)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            try:
                for process in [self.root, *self.root.children(recursive=True)]:
                    try:
                        rss = process.memory_info().rss
                    except psutil.Error:  # ended between the listing and the reading
                        continue
                    total += rss
                    peak, what = self.per_process.get(process.pid, (0, ""))
                    if rss > peak:
                        self.per_process[process.pid] = (rss, what or _what_it_runs(process))
            except psutil.Error:
                pass
            self.peak, self.samples = max(self.peak, total), self.samples + 1
            self._stop.wait(self.every_s)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak

    def largest(self, n: int = 3) -> str:
        """The ``n`` processes with the highest sampled peak RSS: ``1.90 GiB python -m ...; ...``."""
        ranked = sorted(self.per_process.values(), reverse=True)[:n]
        return "; ".join(f"{rss / GIB:.2f} GiB {what}" for rss, what in ranked)


def _what_it_runs(process) -> str:
    try:
        words = process.cmdline()
    except Exception:  # noqa: BLE001 - gone, or not ours to read
        return "?"
    words = [Path(words[0]).name, *words[1:]] if words else ["?"]
    return " ".join(words)[:90]


def run_measured(
    command: list[str], env: dict[str, str], prefix: str = "", largest: list[str] | None = None
) -> tuple[int, float, int, int]:
    """Run ``command``, echoing its output line by line: (exit status, wall s, peak of the tree's summed RSS,
    peak RSS of its largest process)."""
    began = time.perf_counter()
    child = subprocess.Popen(
        command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    memory = TreeMemory(child.pid)
    for line in child.stdout:
        print(f"{prefix}{line}", end="", flush=True)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - began
    tree_peak = memory.stop()
    if largest is not None:
        largest.append(memory.largest())
    return child.returncode, seconds, tree_peak, usage.ru_maxrss * 1024


# ---------------------------------------------------------------------------------------------------- graph


def plant_environment(folder: Path, scenario: Path) -> dict[str, str]:
    """The environment of a fresh plant under ``folder``: the simulated factory of ``scenario``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("GIGAFACTORY_")}
    dagster_home = folder / "dagster_home"
    dagster_home.mkdir(parents=True)
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", dagster_home / "dagster.yaml")
    env.update(
        DAGSTER_HOME=str(dagster_home),
        GIGAFACTORY_SCENARIO=str(scenario),
        GIGAFACTORY_WAREHOUSE=str(folder / "warehouse" / "warehouse.duckdb"),
        GIGAFACTORY_STATE=str(folder / "warehouse" / "state.duckdb"),
        GIGAFACTORY_LAKE=str(folder / "lake"),
        GIGAFACTORY_REPORTS=str(folder / "reports"),
        GX_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


def step_times(dagster_home: Path) -> list[tuple[str, str, float, float]]:
    """(run id, step key, started at, wall s) of every step of every run in the instance, in start order."""
    import warnings

    import dagster as dg

    warnings.filterwarnings("ignore")
    steps = []
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        for run in instance.get_runs():
            records = instance.get_records_for_run(
                run.run_id,
                of_type={
                    dg.DagsterEventType.STEP_START,
                    dg.DagsterEventType.STEP_SUCCESS,
                    dg.DagsterEventType.STEP_FAILURE,
                },
                limit=100_000,
            ).records
            started: dict[str, float] = {}
            for record in records:
                entry = record.event_log_entry
                if entry.dagster_event.event_type == dg.DagsterEventType.STEP_START:
                    started[entry.step_key] = entry.timestamp
                elif entry.step_key in started:
                    at = started[entry.step_key]
                    steps.append((run.run_id, entry.step_key, at, entry.timestamp - at))
    return sorted(steps, key=lambda step: step[2])


def graph_part(folder: Path, scenario: Path, day: date) -> dict:
    from orchestration.progress import stage_of

    plant = folder / "plant"
    env = plant_environment(plant, scenario)
    command = [sys.executable, "-m", "orchestration.backfill", "--from", str(day), "--to", str(day)]
    print(f"$ {' '.join(command[1:])}   (a fresh plant in {plant})", flush=True)
    largest: list[str] = []
    status, seconds, tree_peak, process_peak = run_measured(command, env, prefix="  | ", largest=largest)
    steps = step_times(plant / "dagster_home")
    print(f"Dagster steps ({len(steps)} in {len({run for run, *_ in steps})} run(s)), wall s per step:")
    by_stage: dict[str, list[tuple[str, float]]] = {}
    for _, key, _, took in steps:
        by_stage.setdefault(stage_of(key), []).append((key, took))
    for name, stage_steps in by_stage.items():
        total = sum(took for _, took in stage_steps)
        print(f"  {name:36s} {total:8.2f} s   ({len(stage_steps)} steps)")
        small = [took for _, took in stage_steps if took < 0.5]
        for key, took in stage_steps:
            if took >= 0.5:
                print(f"    {key:60s} {took:7.2f} s")
        if small and len(small) < len(stage_steps):
            print(f"    {len(small)} more steps under 0.5 s each{'':29s} {sum(small):7.2f} s")
    in_steps = sum(took for *_, took in steps)
    print(
        f"graph: exit status {status}, wall {seconds:.1f} s ({in_steps:.1f} s in steps, the rest starting "
        f"the process and loading the definitions); peak memory of the process tree "
        f"{tree_peak / GIB:.2f} GiB (summed RSS sampled every 0.5 s), largest single process "
        f"{process_peak / GIB:.2f} GiB"
    )
    print(f"  the largest processes (sampled peak RSS): {largest[0]}")
    warehouse = plant / "warehouse" / "warehouse.duckdb"
    if warehouse.exists():
        size = warehouse.stat().st_size / 2**20
        print(f"  warehouse {size:,.0f} MiB, lake {folder_mib(plant / 'lake'):,.0f} MiB")
    if status != 0:
        raise SystemExit(f"the daily pipeline failed (exit status {status})")
    return {"status": status, "seconds": seconds, "peak_bytes": max(tree_peak, process_peak)}


def folder_mib(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


# ------------------------------------------------------------------------------------------------ genealogy


def genealogy_part(folder: Path, scenario: Path, day: date, sample_batches: int) -> dict:
    import duckdb
    import pyarrow.compute as pc

    from orchestration.genealogy import backward, expand_day, forward, to_sqlite
    from orchestration.genealogy import model as m
    from orchestration.genealogy.mining import batch_sample, oc_dfg, pm4py_log, pm4py_oc_dfg_edges
    from orchestration.simulator.config import load_scenario
    from orchestration.simulator.engine import run_factory_day

    totals: dict[str, float] = {}
    config = load_scenario(scenario)
    print(f"{day}: {config.batches_per_day} batches released")
    factory_day = stage("simulate the day", lambda: run_factory_day(config, day), totals)
    tables = stage("expand to OCEL", lambda: expand_day(config, factory_day), totals)
    con = duckdb.connect()
    con.register("object", tables["object"])
    con.register("event", tables["event"])
    per_type = con.execute("SELECT ocel_type, count(*) FROM object GROUP BY 1 ORDER BY 2 DESC").fetchall()
    per_activity = con.execute("SELECT ocel_type, count(*) FROM event GROUP BY 1 ORDER BY 2 DESC").fetchall()
    print("  rows: " + ", ".join(f"{name} {table.num_rows:,}" for name, table in tables.items()))
    print("  objects: " + ", ".join(f"{kind} {n:,}" for kind, n in per_type))
    print("  events: " + ", ".join(f"{kind} {n:,}" for kind, n in per_activity))

    cells = tables["object"].filter(pc.equal(tables["object"]["ocel_type"], m.CELL))["ocel_id"]
    cell = cells[len(cells) // 2].as_py()
    case_id = cell.rsplit("-", 1)[0]
    segment = m.segment_id(m.coil_id(case_id, "A", 0), 7)
    made = stage(f"forward from slurry {case_id}-A", lambda: forward(tables, f"{case_id}-A"), totals)
    cut = stage(f"forward from segment {segment[-6:]}", lambda: forward(tables, segment), totals)
    upstream = stage(f"backward from cell {cell[-4:]}", lambda: backward(tables, cell), totals)
    print(
        f"  {made.num_rows} cells from the slurry, {cut.num_rows} from the segment, "
        f"{upstream.num_rows} objects upstream of the cell"
    )
    sqlite = folder / "day.sqlite"
    stage("export OCEL 2.0 SQLite", lambda: to_sqlite(tables, sqlite), totals)
    print(f"  {sqlite.stat().st_size / 2**20:,.0f} MiB")
    sqlite.unlink()
    edges = stage("OC-DFG of the day (DuckDB)", lambda: oc_dfg(tables), totals)
    print(f"  {edges.num_rows} edges over {len(set(edges['object_type'].to_pylist()))} object types")
    print(f"genealogy: {sum(totals.values()):.1f} s, peak RSS {peak_rss_mib() / 1024:.2f} GiB")
    summary = {"seconds": sum(totals.values()), "peak_bytes": peak_rss_mib() * 2**20}

    # The peer, on a sample pm4py can hold: a few batches stacked that day.
    stacked = sorted({c.rsplit("-", 1)[0] for c in cells.to_pylist()})
    step = max(1, len(stacked) // sample_batches)
    sample = batch_sample(tables, stacked[::step][:sample_batches])

    began = time.perf_counter()
    ours = oc_dfg(sample)
    ours_s = time.perf_counter() - began
    import pm4py

    began = time.perf_counter()
    reference = pm4py_oc_dfg_edges(pm4py.discover_ocdfg(pm4py_log(sample), compute_edges_performance=False))
    peer_s = time.perf_counter() - began
    mine = {
        (r["object_type"], r["source"], r["target"]): (
            r["event_couples"],
            r["unique_objects"],
            r["total_objects"],
        )
        for r in ours.to_pylist()
    }
    assert mine == reference, "the OC-DFG differs from pm4py's"
    print(
        f"OC-DFG sample of {sample_batches} batches ({sample['event'].num_rows:,} events, "
        f"{sample['event_object'].num_rows:,} relations): {len(mine)} edges, counts equal to pm4py's; "
        f"ours {ours_s:.2f} s, pm4py {peer_s:.2f} s (pm4py / ours: {peer_s / ours_s:.1f})"
    )
    return summary


# --------------------------------------------------------------------------------------------------- window


def window_part(
    folder: Path, scenario: Path, last_day: date, days: int, memory_limit: str, kept: Path | None
) -> dict:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from orchestration.genealogy import expand_day
    from orchestration.genealogy.mining import window, window_statistics
    from orchestration.simulator.config import load_scenario
    from orchestration.simulator.engine import run_factory_day

    config = load_scenario(scenario)
    parquet = kept or folder / "ocel"
    first_day = last_day - timedelta(days=days - 1)
    wanted = [first_day + timedelta(days=offset) for offset in range(days)]
    began, rows = time.perf_counter(), {}
    if all((parquet / "event" / f"{day}.parquet").exists() for day in wanted):
        print(f"{days} days {first_day}..{last_day}: the Parquet in {parquet}, written by an earlier run")
    else:
        # expand_day continues each batch from its earlier days' production events when it takes them (as
        # the lake's cell_genealogy asset does): the days before the window are simulated for that history,
        # and their objects written (a batch begun before the window is declared there).
        replays = "earlier" in inspect.signature(expand_day).parameters
        history: list[pa.Table] = []
        before = (
            [first_day - timedelta(days=offset) for offset in range(HISTORY_DAYS, 0, -1)] if replays else []
        )
        print(
            f"{days} days {first_day}..{last_day}, one at a time: simulate, expand"
            + (f" (batches continued from {HISTORY_DAYS} days before, their objects kept)" if replays else "")
            + ", write the five tables to Parquet, drop"
        )
        for day in [*before, *wanted]:
            day_began = time.perf_counter()
            factory_day = run_factory_day(config, day)
            if replays:
                events = factory_day.tables["production_events"]
                earlier = pa.concat_tables(history) if history else events.slice(0, 0)
                earlier = earlier.filter(pc.is_in(earlier["case_id"], events["case_id"]))
                tables = expand_day(config, factory_day, earlier=earlier)
                history.append(events)
            else:
                tables = expand_day(config, factory_day)
            if day < first_day:
                tables = {"object": tables["object"]}
            for name, table in tables.items():
                (parquet / name).mkdir(parents=True, exist_ok=True)
                pq.write_table(table, parquet / name / f"{day}.parquet", compression="zstd")
                rows[name] = rows.get(name, 0) + table.num_rows
            if day < first_day:
                print(f"  {day}  {tables['object'].num_rows:>9,} objects (before the window)", flush=True)
                continue
            events, relations = tables["event"].num_rows, tables["event_object"].num_rows
            del tables, factory_day
            pa.default_memory_pool().release_unused()
            print(
                f"  {day}  {events:>9,} events {relations:>10,} relations  "
                f"{time.perf_counter() - day_began:6.2f} s   peak RSS {peak_rss_mib():6.0f} MiB",
                flush=True,
            )
        print(
            f"expanded {days} days in {time.perf_counter() - began:.1f} s: "
            + ", ".join(f"{name} {n:,}" for name, n in rows.items())
            + f"; Parquet {folder_mib(parquet):,.0f} MiB"
        )
    expand_s = time.perf_counter() - began
    con = window(parquet, memory_limit=memory_limit, temp_directory=folder / "spill")
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    relations = con.execute("SELECT count(*) FROM event_object").fetchall()[0][0]
    buckets = max(1, -(-relations // RELATIONS_PER_PART))
    print(
        f"statistics by DuckDB over the Parquet ({relations:,} relations): memory_limit {memory_limit}, "
        f"{threads} threads, {buckets} parts"
    )
    stats_began = time.perf_counter()
    statistics = window_statistics(
        con,
        parquet,
        folder / "parts",
        buckets,
        progress=lambda line: print(f"  {line}   peak RSS {peak_rss_mib():6.0f} MiB", flush=True),
    )
    stats_s = time.perf_counter() - stats_began
    edges, spans, problems = (statistics[name] for name in ("oc_dfg", "lead_times", "convergence_divergence"))
    types = len(set(edges["object_type"].to_pylist()))
    print(f"OC-DFG of {days} days: {edges.num_rows} edges over {types} object types:")
    con.register("edges", edges)
    for row in con.execute(
        "SELECT object_type, count(*), sum(total_objects), sum(unique_objects) FROM edges "
        "GROUP BY 1 ORDER BY 3 DESC"
    ).fetchall():
        print(f"    {row[0]:18s} {row[1]:4d} edges {row[2]:>12,} object steps")
    print(f"lead times of {days} days (first to last event of each object):")
    print(
        f"    {'object type':18s} {'objects':>10s}"
        + "".join(f"{h:>9s}" for h in ("mean h", "p50 h", "p95 h", "max h"))
    )
    for r in spans.to_pylist():
        print(
            f"    {r['object_type']:18s} {r['objects']:>10,}"
            + "".join(f"{r[k] / 3600:9.2f}" for k in ("mean_s", "p50_s", "p95_s", "max_s"))
        )
    print("convergence (objects of the type per event) / divergence (events of the activity per object):")
    print(
        f"    {'object type':18s} {'activity':20s} {'events':>10s} {'converg.':>10s} {'obj/ev':>7s}"
        f" {'objects':>9s} {'diverg.':>9s} {'ev/obj':>9s}  flags"
    )
    for r in problems.to_pylist():
        flags = " ".join(f for f in ("convergence", "divergence") if r[f])
        print(
            f"    {r['object_type']:18s} {r['activity']:20s} {r['events']:>10,} {r['convergent_events']:>10,}"
            f" {r['objects_per_event_mean']:7.2f} {r['objects']:>9,} {r['divergent_objects']:>9,}"
            f" {r['events_per_object_mean']:9.1f}  {flags}"
        )
    print(
        f"window: expand {expand_s:.1f} s + statistics {stats_s:.1f} s, "
        f"peak RSS {peak_rss_mib() / 1024:.2f} GiB"
    )
    return {"seconds": expand_s + stats_s, "peak_bytes": peak_rss_mib() * 2**20}


# ----------------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=Path("data/scenarios/default.yaml"))
    parser.add_argument("--scale", type=float, default=1.0, help="plant scale (1.0: ~300 k cells a day)")
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 11, 10))
    parser.add_argument("--sample-batches", type=int, default=3, help="batches in the OC-DFG peer sample")
    parser.add_argument("--window-days", type=int, default=30, help="days in the mining window")
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB's memory limit for the window")
    parser.add_argument(
        "--window-folder",
        type=Path,
        help="keep the window's Parquet here (reused when it holds the days already); default: temporary",
    )
    parser.add_argument("--parts", default=",".join(PARTS), help=f"a comma-separated choice of {PARTS}")
    # internal: run one part in this process and write its summary as JSON
    parser.add_argument("--run-part", choices=PARTS, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--summary", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.run_part:
        scenario = args.folder / "scaled.yaml"
        part_folder = args.folder / args.run_part
        part_folder.mkdir()
        if args.run_part == "graph":
            summary = graph_part(part_folder, scenario, args.day)
        elif args.run_part == "genealogy":
            summary = genealogy_part(part_folder, scenario, args.day, args.sample_batches)
        else:
            summary = window_part(
                part_folder,
                args.folder / "scaled_window.yaml",
                args.day,
                args.window_days,
                args.memory_limit,
                args.window_folder,
            )
        args.summary.write_text(json.dumps(summary))
        return

    parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="full_scale_day.") as temporary:
        folder = Path(temporary)
        (folder / "scaled.yaml").write_text(f"base: {args.scenario.resolve()}\nscale: {args.scale}\n")
        # The window's plant starts on its first history day (a simulated plant has no day before its first).
        starts = args.day - timedelta(days=args.window_days - 1 + HISTORY_DAYS)
        (folder / "scaled_window.yaml").write_text(
            f"base: {args.scenario.resolve()}\nscale: {args.scale}\nrelease: {{first_day: {starts}}}\n"
        )
        print(f"{args.scenario} at scale {args.scale}, {args.day}; load average {os.getloadavg()[0]:.1f}")
        for part in parts:
            print(f"\n== {part}", flush=True)
            summary_file = folder / f"{part}.json"
            command = [
                sys.executable, __file__, "--run-part", part, "--folder", str(folder), "--summary",
                str(summary_file), "--day", str(args.day), "--sample-batches", str(args.sample_batches),
                "--window-days", str(args.window_days), "--memory-limit", args.memory_limit,
            ]  # fmt: skip
            if args.window_folder:
                command += ["--window-folder", str(args.window_folder.resolve())]
            status, seconds, tree_peak, process_peak = run_measured(command, os.environ.copy())
            if status != 0 or not summary_file.exists():
                print(f"{part}: FAILED (exit status {status})")
                results[part] = {"wall": seconds, "peak_bytes": max(tree_peak, process_peak), "failed": True}
                continue
            results[part] = {**json.loads(summary_file.read_text()), "wall": seconds}
            results[part]["peak_bytes"] = max(results[part]["peak_bytes"], tree_peak, process_peak)
            print(
                f"{part}: part wall {seconds:.1f} s, peak memory of its process tree "
                f"{tree_peak / GIB:.2f} GiB "
                f"(summed RSS, sampled every 0.5 s), largest process {process_peak / GIB:.2f} GiB"
            )
    load = os.getloadavg()[0]
    print(f"\n== goal (under {GOAL_S // 60} minutes and {GOAL_GIB:.0f} GiB), load average {load:.1f}")
    day_parts = [part for part in ("graph", "genealogy") if part in results]
    if day_parts:
        seconds = sum(results[part].get("wall", results[part]["seconds"]) for part in day_parts)
        peak = max(results[part]["peak_bytes"] for part in day_parts) / GIB
        met = seconds < GOAL_S and peak < GOAL_GIB and not any(results[p].get("failed") for p in day_parts)
        print(
            f"one day ({' + '.join(day_parts)}): {seconds:.0f} s ({seconds / 60:.1f} min), "
            f"peak {peak:.2f} GiB: {'MET' if met else 'NOT MET'}"
        )
    if "window" in results:
        peak = results["window"]["peak_bytes"] / GIB
        met = peak < GOAL_GIB and not results["window"].get("failed")
        print(
            f"{args.window_days}-day window: {results['window']['wall']:.0f} s, peak {peak:.2f} GiB: "
            f"{'within' if met else 'NOT within'} {GOAL_GIB:.0f} GiB"
        )


if __name__ == "__main__":
    main()
