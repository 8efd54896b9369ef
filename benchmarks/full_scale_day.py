"""One factory day at full scale (~300 k cells) through the genealogy: simulate, expand, trace, export.

    .venv/bin/python benchmarks/full_scale_day.py [--scenario data/scenarios/default.yaml] [--scale 1.0]
        [--day 2026-11-10] [--sample-batches 3]

Stages, each timed on its own (wall seconds) with the process's peak resident memory so far (ru_maxrss):
the simulated day (the scenario at ``--scale``), ``expand_day`` (objects and events per type printed),
a forward trace from a slurry batch and from one coil segment and a backward trace from one of their cells,
the OCEL 2.0 SQLite export, and the object-centric DFG of the whole day. Then the peer: the OC-DFG of a few
batches' sub-log (their events and every object those name) by our DuckDB query and by pm4py's
``discover_ocdfg``; the edge counts must be equal, and the speed ratio is printed. The issue's goal for the
whole day: under 15 minutes and 8 GiB on the 2-core machine.

Run by hand, never as a timed test: at scale 1.0 it takes a few CPU-minutes.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

from orchestration.genealogy import backward, expand_day, forward, to_sqlite  # noqa: E402
from orchestration.genealogy import model as m  # noqa: E402
from orchestration.genealogy.mining import batch_sample, oc_dfg, pm4py_log, pm4py_oc_dfg_edges  # noqa: E402
from orchestration.simulator.config import load_scenario  # noqa: E402
from orchestration.simulator.engine import run_factory_day  # noqa: E402


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def stage(name: str, work: Callable, totals: dict[str, float]):
    began = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - began
    totals[name] = seconds
    print(f"{name:34s} {seconds:8.2f} s   peak RSS {peak_rss_mib():7.0f} MiB", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=Path("data/scenarios/default.yaml"))
    parser.add_argument("--scale", type=float, default=1.0, help="plant scale (1.0: ~300 k cells a day)")
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 11, 10))
    parser.add_argument("--sample-batches", type=int, default=3, help="batches in the OC-DFG peer sample")
    args = parser.parse_args()

    totals: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        scenario = Path(folder) / "scaled.yaml"
        scenario.write_text(f"base: {args.scenario.resolve()}\nscale: {args.scale}\n")
        config = load_scenario(scenario)
        print(f"{args.scenario} at scale {args.scale}, {args.day}: {config.batches_per_day} batches released")
        factory_day = stage("simulate the day", lambda: run_factory_day(config, args.day), totals)
        tables = stage("expand to OCEL", lambda: expand_day(config, factory_day), totals)
        con = duckdb.connect()
        con.register("object", tables["object"])
        con.register("event", tables["event"])
        per_type = con.execute("SELECT ocel_type, count(*) FROM object GROUP BY 1 ORDER BY 2 DESC").fetchall()
        per_activity = con.execute(
            "SELECT ocel_type, count(*) FROM event GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
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
        sqlite = Path(folder) / "day.sqlite"
        stage("export OCEL 2.0 SQLite", lambda: to_sqlite(tables, sqlite), totals)
        print(f"  {sqlite.stat().st_size / 2**20:,.0f} MiB")
        edges = stage("OC-DFG of the day (DuckDB)", lambda: oc_dfg(tables), totals)
        print(f"  {edges.num_rows} edges over {len(set(edges['object_type'].to_pylist()))} object types")
    print(
        f"whole day: {sum(totals.values()):.1f} s, peak RSS {peak_rss_mib() / 1024:.2f} GiB "
        "(goal: under 15 minutes and 8 GiB)"
    )

    # The peer, on a sample pm4py can hold: a few batches stacked that day.
    stacked = sorted({c.rsplit("-", 1)[0] for c in cells.to_pylist()})
    step = max(1, len(stacked) // args.sample_batches)
    sample = batch_sample(tables, stacked[::step][: args.sample_batches])

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
        f"OC-DFG sample of {args.sample_batches} batches ({sample['event'].num_rows:,} events, "
        f"{sample['event_object'].num_rows:,} relations): {len(mine)} edges, counts equal to pm4py's; "
        f"ours {ours_s:.2f} s, pm4py {peer_s:.2f} s (pm4py / ours: {peer_s / ours_s:.1f})"
    )


if __name__ == "__main__":
    main()
