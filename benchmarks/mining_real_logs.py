"""Process mining against pm4py, side by side in one process: the real logs of ../shared/data/real and
synthetic logs of about 10k, 100k, 1M and 10M events. Run by hand, never as a timed test.

Real logs, each mapped with defaults only (as the mine command reads them): the file read (ours: the
connectors; pm4py: read_xes, or read_csv and format_dataframe with the start column), then the statistics
(ours: the directly-follows graph with waits, the variants and the throughput distribution in one DuckDB
pass; pm4py: discover_dfg, get_variants, get_all_case_durations), whether both found the same DFG counts,
variants and cases, then the inductive miner (noise threshold 0.0, pm4py's default) with token-replay
fitness and ETConformance precision on the whole log: ours from the variant log, pm4py's on its frame.

Synthetic logs (benchmarks/mining_scale.generate: cells on the 11-step route with rework and skips, Parquet):
the statistics, ours over the Parquet files, pm4py's on the frame read from them (read included in both).

Time is wall time; memory is the peak resident memory above the phase's start, sampled every 5 ms (DuckDB's
memory is outside Python's allocator, so tracemalloc would not see it). Python, pm4py and DuckDB are
imported before anything is timed.

    .venv/bin/python benchmarks/mining_real_logs.py                   # real logs, then 10k .. 10M
    .venv/bin/python benchmarks/mining_real_logs.py --events 10000 100000 --no-quality
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402
import pandas as pd  # noqa: E402

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
REAL_LOGS = [
    "running-example.xes",
    "pm4py/roadtraffic100traces.xes",
    "production_levy2014.csv.gz",
    "pm4py/interval_event_log.csv",
    "pm4py/03_repairExample.xes.gz",
    "pm4py/02_teleclaims.xes.gz",
]
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


class Measured:
    """``with Measured() as m:`` -> m.seconds, m.peak_mib (peak resident memory above the start)."""

    def __enter__(self):
        gc.collect()
        self.start_mib = self.peak = rss_mib()
        self.running = True
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.sampler.start()
        self.started = time.perf_counter()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, rss_mib())
            time.sleep(0.005)

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        self.running = False
        self.sampler.join()
        self.peak_mib = max(self.peak, rss_mib()) - self.start_mib
        return False


def pm4py_frame(path: Path) -> pd.DataFrame:
    import pm4py

    if ".xes" in path.name:
        return pm4py.read_xes(str(path), show_progress_bar=False)
    frame = pd.read_csv(path)
    if "Activity" in frame:
        keys = {"case_id": "case_id", "activity_key": "Activity", "timestamp_key": "end_time"}
        return pm4py.format_dataframe(frame, **keys, start_timestamp_key="start_time")
    return pm4py.format_dataframe(frame, start_timestamp_key="start_timestamp")


def pm4py_statistics(frame: pd.DataFrame):
    import pm4py

    dfg, _, _ = pm4py.discover_dfg(frame)
    variants = pm4py.get_variants(frame)
    # pm4py's case durations fail on a frame that declares a start key: they run from first to last end
    completes = frame[["case:concept:name", "concept:name", "time:timestamp"]]
    completes = completes.copy() if "start_timestamp" in frame else frame
    completes.attrs = {}
    durations = pm4py.get_all_case_durations(completes)
    return dfg, variants, durations


def ratio(theirs: float, ours: float) -> str:
    return f"{theirs / ours:.1f}x" if ours > 0 else "n/a"


def real_logs(quality: bool) -> None:
    import pm4py

    from orchestration.mining.discovery import discover_process_model
    from orchestration.mining.event_log import variant_log
    from orchestration.mining.log_file import read_log, register_events
    from orchestration.mining.model_quality import evaluate_model
    from orchestration.mining.variants import flow_and_variants

    print(
        "| log | events | cases | variants | same DFG / variants / cases | read ours / pm4py | "
        "statistics ours / pm4py (ratio) | peak MiB ours / pm4py | fitness ours / pm4py | "
        "precision ours / pm4py | conformance s ours / pm4py |"
    )
    print("|---|---:|---:|---:|---|---|---|---|---|---|---|")
    for name in REAL_LOGS:
        path = REAL / name
        if not path.exists():
            print(f"| {name} | not present | | | | | | | | | |")
            continue
        with Measured() as their_read:
            frame = pm4py_frame(path)
        with Measured() as our_read:
            read = read_log(path)
        conn = duckdb.connect()
        conn.execute("set TimeZone = 'UTC'")
        events = register_events(conn, read.loaded.events)
        flow_and_variants(conn, events, None)  # warm: DuckDB's first query plans its catalog
        pm4py_statistics(frame)
        with Measured() as ours:
            dfg, variants = flow_and_variants(conn, events, None)
        with Measured() as theirs:
            their_dfg, their_variants, durations = pm4py_statistics(frame)
        same = (
            {(s, t): n for s, t, n in zip(dfg.source, dfg.target, dfg.frequency, strict=True)}
            == dict(their_dfg),
            dict(variants.counts()) == {tuple(v): n for v, n in their_variants.items()},
            variants.cases == len(durations) == frame["case:concept:name"].nunique(),
        )
        fitness = precision = conformance = "not run"
        if quality:
            counts = variants.counts()
            with Measured() as our_quality:
                model = discover_process_model(variant_log(counts), noise_threshold=0.0)
                q = evaluate_model(counts, model, max_variants=None, align_variants=0)
            with Measured() as their_quality, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                net, im, fm = pm4py.discover_petri_net_inductive(frame, noise_threshold=0.0)
                their_fitness = pm4py.fitness_token_based_replay(frame, net, im, fm)["log_fitness"]
                their_precision = pm4py.precision_token_based_replay(frame, net, im, fm)
            fitness = f"{q.token_fitness:.6f} / {their_fitness:.6f}"
            precision = f"{q.precision:.6f} / {their_precision:.6f}"
            conformance = f"{our_quality.seconds:.1f} / {their_quality.seconds:.1f}"
        print(
            f"| {name} | {len(frame):,} | {variants.cases:,} | {len(variants.table):,} | "
            f"{' / '.join('yes' if s else 'NO' for s in same)} | "
            f"{our_read.seconds:.2f} / {their_read.seconds:.2f} s | "
            f"{ours.seconds * 1000:.0f} / {theirs.seconds * 1000:.0f} ms "
            f"({ratio(theirs.seconds, ours.seconds)}) | "
            f"{ours.peak_mib:.0f} / {theirs.peak_mib:.0f} | {fitness} | {precision} | {conformance} |",
            flush=True,
        )
        conn.close()


def synthetic(sizes: list[int], workdir: Path) -> None:
    import pm4py

    from benchmarks.mining_scale import generate
    from orchestration.mining.variants import flow_and_variants

    print(
        "\n| events | cases | same DFG / variants | statistics ours | pm4py | time ratio pm4py/ours | "
        "peak MiB ours | pm4py | memory ratio |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        folder = workdir / f"events_{size}"
        written = generate(size, folder)
        events = f"read_parquet('{folder}/*.parquet')"
        conn = duckdb.connect()
        conn.execute("set threads = 2")
        conn.execute("set preserve_insertion_order = false")
        flow_and_variants(conn, f"(select * from {events} limit 100)", None)  # warm
        with Measured() as ours:
            dfg, variants = flow_and_variants(conn, events, None)
        conn.close()
        try:
            with Measured() as theirs:
                frame = pd.read_parquet(folder, columns=["case_id", "activity", "end_ts"])
                frame = pm4py.format_dataframe(
                    frame, case_id="case_id", activity_key="activity", timestamp_key="end_ts"
                )
                their_dfg, their_variants, _ = pm4py_statistics(frame)
            same = (
                {(s, t): n for s, t, n in zip(dfg.source, dfg.target, dfg.frequency, strict=True)}
                == dict(their_dfg),
                dict(variants.counts()) == {tuple(v): n for v, n in their_variants.items()},
            )
            del frame
            print(
                f"| {written:,} | {variants.cases:,} | {' / '.join('yes' if s else 'NO' for s in same)} | "
                f"{ours.seconds:.2f} s | {theirs.seconds:.2f} s | {ratio(theirs.seconds, ours.seconds)} | "
                f"{ours.peak_mib:,.0f} | {theirs.peak_mib:,.0f} | {ratio(theirs.peak_mib, ours.peak_mib)} |",
                flush=True,
            )
        except MemoryError:
            print(
                f"| {written:,} | {variants.cases:,} | | {ours.seconds:.2f} s | out of memory | | "
                f"{ours.peak_mib:,.0f} | | |",
                flush=True,
            )
        gc.collect()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, nargs="*", default=[10_000, 100_000, 1_000_000, 10_000_000])
    parser.add_argument("--no-real", action="store_true", help="skip the real logs")
    parser.add_argument("--no-quality", action="store_true", help="skip fitness and precision (Levy: ~200 s)")
    args = parser.parse_args()
    import pm4py  # noqa: F401  imported before anything is timed

    warnings.filterwarnings("ignore")
    if not args.no_real:
        real_logs(quality=not args.no_quality)
    if args.events:
        with tempfile.TemporaryDirectory() as workdir:
            synthetic(args.events, Path(workdir))


if __name__ == "__main__":
    main()
