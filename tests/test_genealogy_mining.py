"""Object-centric mining statistics on the tiny plant: lead times per object type, convergence and divergence
per activity and object type, and the same statistics over a window of days read from Parquet by DuckDB."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pm4py.objects.ocel.util import (
    convergence_divergence_diagnostics,
    events_per_type_per_activity,
    objects_per_type_per_activity,
)

from orchestration.genealogy import expand_day
from orchestration.genealogy import model as m
from orchestration.genealogy.mining import (
    WINDOW_TABLES,
    convergence_divergence,
    lead_times,
    oc_dfg,
    pm4py_log,
    window,
    window_statistics,
)
from orchestration.simulator.config import load_scenario
from orchestration.simulator.engine import run_factory_day

TINY = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "test_small.yaml"
DAYS = [date(2026, 11, 9), date(2026, 11, 10)]


@pytest.fixture(scope="module")
def days() -> list[dict[str, pa.Table]]:
    """The tiny plant's OCEL tables of two consecutive days, each expanded on its own."""
    config = load_scenario(TINY)
    return [expand_day(config, run_factory_day(config, day)) for day in DAYS]


@pytest.fixture(scope="module")
def parquet(days, tmp_path_factory) -> Path:
    """The two days written as a window is: <folder>/<table>/<day>.parquet."""
    folder = tmp_path_factory.mktemp("window") / "ocel"
    for day, tables in zip(DAYS, days, strict=True):
        for name, table in tables.items():
            (folder / name).mkdir(parents=True, exist_ok=True)
            pq.write_table(table, folder / name / f"{day}.parquet")
    return folder


def together(days: list[dict[str, pa.Table]]) -> dict[str, pa.Table]:
    """The days' tables in memory as one log: events and relations concatenated, every object once."""
    tables = {name: pa.concat_tables([day[name] for day in days]) for name in WINDOW_TABLES}
    objects = tables["object"].to_pandas().drop_duplicates()
    return {**tables, "object": pa.Table.from_pandas(objects, preserve_index=False)}


def relations(tables: dict[str, pa.Table]) -> pd.DataFrame:
    """(event, activity, time, object, object type), one row per distinct event-object pair, by pandas."""
    links = tables["event_object"].to_pandas()[["ocel_event_id", "ocel_object_id"]].drop_duplicates()
    events = tables["event"].to_pandas()[["ocel_id", "ocel_type", "ocel_time"]]
    events.columns = ["ocel_event_id", "activity", "time"]
    objects = tables["object"].to_pandas().drop_duplicates()
    objects.columns = ["ocel_object_id", "object_type"]
    return links.merge(events, on="ocel_event_id").merge(objects, on="ocel_object_id")


def pandas_lead_times(tables: dict[str, pa.Table]) -> dict[str, tuple]:
    spans = relations(tables).groupby(["object_type", "ocel_object_id"])["time"].agg(["min", "max"])
    seconds = ((spans["max"] - spans["min"]).dt.total_seconds()).groupby(level="object_type")
    return {
        kind: (len(s), s.mean(), s.quantile(0.5), s.quantile(0.95), s.max())
        for kind, s in seconds  # pandas' quantile: linear interpolation
    }


def by_type(table: pa.Table) -> dict[str, tuple]:
    return {
        r["object_type"]: (r["objects"], r["mean_s"], r["p50_s"], r["p95_s"], r["max_s"])
        for r in table.to_pylist()
    }


def assert_lead_times_equal(ours: dict[str, tuple], truth: dict[str, tuple]) -> None:
    assert ours.keys() == truth.keys()
    for kind, (objects, *seconds) in truth.items():
        assert ours[kind][0] == objects, kind
        assert ours[kind][1:] == pytest.approx(tuple(seconds), abs=1e-3), kind


def test_lead_times_per_object_type_are_each_objects_first_to_last_event_as_pandas_finds_them(days):
    tables = days[1]
    ours = by_type(lead_times(tables))
    assert_lead_times_equal(ours, pandas_lead_times(tables))
    # every object that takes part in an event is counted, and a cell takes hours from stacking on
    named = relations(tables).groupby("object_type")["ocel_object_id"].nunique().to_dict()
    assert {kind: row[0] for kind, row in ours.items()} == named
    assert ours[m.CELL][2] > 3600


def test_convergence_and_divergence_equal_pm4pys_statistics_and_flags(days):
    """pm4py's objects_per_type_per_activity (objects of a type per event: convergence) and
    events_per_type_per_activity (events of an activity per object: divergence), on the whole tiny day."""
    tables = days[1]
    log = pm4py_log(tables)
    per_event = objects_per_type_per_activity.apply(log)
    per_object = events_per_type_per_activity.apply(log)
    flags = convergence_divergence_diagnostics.apply(log)
    ours = {(r["activity"], r["object_type"]): r for r in convergence_divergence(tables).to_pylist()}
    expected = {(act, kind) for act, kinds in per_event.items() for kind in kinds}
    assert ours.keys() == expected
    for key, row in ours.items():
        act, kind = key
        theirs = per_event[act][kind]
        assert (row["objects_per_event_median"], row["objects_per_event_max"]) == (
            theirs["median"],
            theirs["max"],
        )
        assert row["objects_per_event_mean"] == pytest.approx(theirs["mean"])
        theirs = per_object[act][kind]
        assert (row["events_per_object_median"], row["events_per_object_max"]) == (
            theirs["median"],
            theirs["max"],
        )
        assert row["events_per_object_mean"] == pytest.approx(theirs["mean"])
    assert {k for k, r in ours.items() if r["convergence"]} == flags["convergence"]
    assert {k for k, r in ours.items() if r["divergence"]} == flags["divergence"]


def test_convergent_events_and_divergent_objects_are_counted_one_by_one(days):
    tables = days[1]
    pairs = relations(tables)
    objects_per_event = pairs.groupby(["activity", "object_type", "ocel_event_id"]).size()
    events_per_object = pairs.groupby(["activity", "object_type", "ocel_object_id"]).size()
    convergent = (objects_per_event > 1).groupby(level=[0, 1]).agg(["size", "sum"])
    divergent = (events_per_object > 1).groupby(level=[0, 1]).agg(["size", "sum"])
    for r in convergence_divergence(tables).to_pylist():
        key = (r["activity"], r["object_type"])
        assert (r["events"], r["convergent_events"]) == tuple(convergent.loc[key]), key
        assert (r["objects"], r["divergent_objects"]) == tuple(divergent.loc[key]), key


def test_a_packing_event_names_the_cells_of_one_tray_and_a_machine_takes_many_events_of_its_activity(days):
    rows = {(r["activity"], r["object_type"]): r for r in convergence_divergence(days[1]).to_pylist()}
    # Convergence: flattened onto cells, one Packing event is copied into every cell of its tray.
    packing = rows[("Packing", m.CELL)]
    assert packing["convergence"] and packing["objects_per_event_median"] > 1
    # Each cell is stacked once: no divergence; a stacking machine stacks thousands of cells: divergence.
    assert not rows[("Stacking", m.CELL)]["divergence"]
    assert rows[("Stacking", m.CELL)]["divergent_objects"] == 0
    assert rows[("Stacking", m.MACHINE)]["divergence"]
    assert rows[("Stacking", m.MACHINE)]["events_per_object_max"] > 1000


def test_a_window_of_days_read_from_parquet_gives_the_statistics_of_the_days_held_together(
    days, parquet, tmp_path
):
    con = window(parquet, memory_limit="256MB", temp_directory=tmp_path / "spill")
    limit, unit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0].split()
    assert unit == "MiB" and float(limit) <= 256
    held = together(days)
    # machines and crews work on both days: named in both days' files, one object each in the window
    files = sum(day["object"].num_rows for day in days)
    assert con.execute("SELECT count(*), count(DISTINCT ocel_id) FROM object").fetchall()[0] == (
        held["object"].num_rows,
        held["object"].num_rows,
    )
    assert held["object"].num_rows < files
    assert oc_dfg(con).to_pylist() == oc_dfg(held).to_pylist()
    assert_lead_times_equal(by_type(lead_times(con)), pandas_lead_times(held))
    assert sorted(convergence_divergence(con).to_pylist(), key=str) == sorted(
        convergence_divergence(held).to_pylist(), key=str
    )


def test_a_window_over_a_day_is_that_days_statistics(days, parquet, tmp_path):
    one_day = parquet.parent / "one_day"
    for name in WINDOW_TABLES:
        (one_day / name).mkdir(parents=True)
        (one_day / name / f"{DAYS[1]}.parquet").symlink_to(parquet / name / f"{DAYS[1]}.parquet")
    con = window(one_day, temp_directory=tmp_path / "spill")
    assert oc_dfg(con).to_pylist() == oc_dfg(days[1]).to_pylist()
    assert_same_rows(lead_times(con), lead_times(days[1]))  # sums in another order: approximately


def assert_same_rows(ours: pa.Table, theirs: pa.Table) -> None:
    assert ours.column_names == theirs.column_names
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours.to_pylist(), theirs.to_pylist(), strict=True):
        assert mine == pytest.approx(reference), mine


@pytest.mark.parametrize("buckets", [1, 3])
def test_the_statistics_computed_a_part_at_a_time_equal_the_single_queries_row_for_row(
    parquet, tmp_path, buckets
):
    """How a month fits in memory: the relations split by object (and by event) into parts, each part's
    statistics exact, added up (counts, histograms) or gathered (lead times) at the end."""
    con = window(parquet, memory_limit="256MB", temp_directory=tmp_path / "spill")
    heard: list[str] = []
    parts = window_statistics(con, parquet, tmp_path / "work", buckets, progress=heard.append)
    assert_same_rows(parts["oc_dfg"], oc_dfg(con))
    assert_same_rows(parts["lead_times"], lead_times(con))
    assert_same_rows(parts["convergence_divergence"], convergence_divergence(con))
    assert len(heard) == 3 + buckets
