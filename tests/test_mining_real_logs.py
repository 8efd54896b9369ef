"""Process mining against pm4py on public real logs, each mapped with defaults only: our directly-follows
counts, variants and cases equal pm4py's on the same file read by pm4py, and the inductive miner's fitness and
precision equal pm4py's to 1e-6 with the same settings (pm4py's defaults: noise threshold 0.0, the whole log).

The smaller logs only (about 12 s together); benchmarks/mining_real_logs.py compares the larger ones (the
teleclaims log; fitness and precision on the whole Levy log, about 100 s in pm4py; Levy's fitness is also in
test_mining_scale) and the timings. Skipped when ../shared/data/real is absent.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.mining.discovery import discover_process_model
from orchestration.mining.event_log import variant_log
from orchestration.mining.log_file import read_log, register_events
from orchestration.mining.model_quality import evaluate_model
from orchestration.mining.variants import flow_and_variants

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/data/real is not present")
QUIET = {"show_progress_bar": False}


def pm4py_frame(path: Path) -> pd.DataFrame:
    """The file as an analyst reads it with pm4py: read_xes, or read_csv and format_dataframe with the
    file's start column (an interval log)."""
    import pm4py

    if ".xes" in path.name:
        return pm4py.read_xes(str(path), show_progress_bar=False)
    frame = pd.read_csv(path)
    if "Activity" in frame:  # Levy's own column names
        keys = {"case_id": "case_id", "activity_key": "Activity", "timestamp_key": "end_time"}
        return pm4py.format_dataframe(frame, **keys, start_timestamp_key="start_time")
    return pm4py.format_dataframe(frame, start_timestamp_key="start_timestamp")


@pytest.fixture(
    scope="module",
    params=[
        "running-example.xes",
        "pm4py/roadtraffic100traces.xes",
        "pm4py/interval_event_log.csv",
        "production_levy2014.csv.gz",
        "pm4py/03_repairExample.xes.gz",
    ],
)
def real_log(request):
    path = REAL / request.param
    if not path.exists():
        pytest.skip(f"{path} is not present")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = pm4py_frame(path)
    read = read_log(path)
    conn = duckdb.connect()
    conn.execute("set TimeZone = 'UTC'")
    events = register_events(conn, read.loaded.events)
    dfg, variants = flow_and_variants(conn, events, None)
    yield request.param, frame, read, dfg, variants
    conn.close()


def test_the_whole_log_is_read_as_pm4py_reads_it(real_log):
    """No event is quarantined or dropped: a missing resource (74 % of the road-traffic events) is no fault,
    and repeated events (Levy's 51) are kept and counted."""
    name, frame, read, _, variants = real_log
    assert read.loaded.quarantine.num_rows == 0
    assert read.loaded.events.num_rows == len(frame)
    assert variants.cases == variants.all_cases == frame["case:concept:name"].nunique()
    if name == "production_levy2014.csv.gz":
        assert read.loaded.duplicates == 51 and read.mapping.duplicates_policy == "keep"
    if name == "pm4py/roadtraffic100traces.xes":
        assert read.loaded.events["machine_id"].null_count == 290


def test_directly_follows_counts_and_variants_equal_pm4py(real_log):
    import pm4py

    _, frame, _, dfg, variants = real_log
    theirs, starts, ends = pm4py.discover_dfg(frame)
    assert {(s, t): n for s, t, n in zip(dfg.source, dfg.target, dfg.frequency, strict=True)} == dict(theirs)
    assert dict(variants.counts()) == {tuple(v): n for v, n in pm4py.get_variants(frame).items()}


def test_inductive_fitness_and_precision_equal_pm4py(real_log):
    import pm4py

    name, frame, _, _, variants = real_log
    if name == "production_levy2014.csv.gz":
        pytest.skip("Levy's 217 variants take pm4py 100 s: benchmarks/mining_real_logs.py compares them")
    counts = variants.counts()
    ours = discover_process_model(variant_log(counts), noise_threshold=0.0)
    quality = evaluate_model(counts, ours, max_variants=None, align_variants=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net, im, fm = pm4py.discover_petri_net_inductive(frame, noise_threshold=0.0)
        assert (ours.places, ours.transitions, ours.arcs) == (
            len(net.places),
            len(net.transitions),
            len(net.arcs),
        )
        fitness = pm4py.fitness_token_based_replay(frame, net, im, fm)["log_fitness"]
        assert quality.token_fitness == pytest.approx(fitness, abs=1e-6)
        precision = pm4py.precision_token_based_replay(frame, net, im, fm)
        assert quality.precision == pytest.approx(precision, abs=1e-6)


def test_interval_waits_and_throughput_are_pm4py_s():
    """An interval log (start and complete per event): an edge's mean wait is pm4py's performance DFG with
    the start timestamp declared (ordered by start, waits clamped at 0) and a case's throughput is pm4py's
    case duration (first to last complete)."""
    import pm4py
    from pm4py.algo.discovery.dfg.adapters.pandas.df_statistics import get_dfg_graph

    path = REAL / "pm4py" / "interval_event_log.csv"
    frame = pm4py_frame(path)
    conn = duckdb.connect()
    dfg, variants = flow_and_variants(conn, register_events(conn, read_log(path).loaded.events), None)
    theirs = get_dfg_graph(frame, measure="performance", start_timestamp_key="start_timestamp")
    ours = {(s, t): w for s, t, w in zip(dfg.source, dfg.target, dfg.mean_wait_s, strict=True)}
    assert ours.keys() == theirs.keys()
    for edge, wait in theirs.items():
        assert ours[edge] == pytest.approx(wait, rel=1e-9, abs=1e-6)
    assert min(dfg.median_wait_s) >= 0
    # pm4py's case duration cannot take a start key (it fails on one): it runs from first to last complete.
    completes = frame[["case:concept:name", "concept:name", "time:timestamp"]].copy()
    completes.attrs = {}  # format_dataframe's properties would pass the start key on
    durations = pm4py.get_all_case_durations(completes)
    median = variants.throughput.set_index("statistic").loc["q050", "throughput_s"]
    assert median == pytest.approx(pd.Series(durations).median())
