"""Process mining of factory days as the daily pipeline runs it: each day, and the 7 and 30 days ending on it,
written to the window tables; the day's inductive model and its conformance also fill the two daily tables
the reports read."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb

from orchestration.mining.case_attributes import window_batches_sql
from orchestration.mining.case_steps import mart_events_sql
from orchestration.mining.conformance import ConformanceResult
from orchestration.mining.reference_model import designed_route_model, supplied_model
from orchestration.mining.results import to_rows, write_results
from orchestration.mining.window_results import day_windows, write_day_windows
from orchestration.mining.window_run import MiningSettings, WindowStatistics, mine_window
from orchestration.simulator.config import load_scenario


def reference_model(conn: duckdb.DuckDBPyConnection, scenario_path: Path, supplied_path: str | None):
    """The supplied model (PNML or BPMN), else the scenario's designed route when the mart's activities are
    its steps, else None."""
    if supplied_path:
        return supplied_model(supplied_path)
    scenario = load_scenario(scenario_path)
    activities = {
        row[0] for row in conn.execute("select distinct activity from marts.fct_process_events").fetchall()
    }
    return designed_route_model(scenario) if activities and activities <= set(scenario.route) else None


def _has_batch_dimension(conn: duckdb.DuckDBPyConnection) -> bool:
    """marts.dim_batch and dim_shift exist (they are built by dbt beside the event log)."""
    found = conn.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts' "
        "and table_name in ('dim_batch', 'dim_shift')"
    ).fetchall()[0][0]
    return found == 2


def mine_factory_days(
    conn: duckdb.DuckDBPyConnection,
    days: list[str],
    window_days: list[int],
    settings: MiningSettings,
    reference,
    pictures_dir: Callable[[str], Path],
    log: Callable[[str], None] = print,
    filters: dict[str, list[dict]] | None = None,
    window_statistics: Callable[[date, date, float | None], WindowStatistics] | None = None,
) -> dict[str, float | None]:
    """Mine every window each of ``days`` owns (day_windows) and replace its rows in the window tables;
    returns the token-replay fitness of each day's model. ``filters``, when given, receives per
    "<day> (<n> d)" window every filter applied with the cases and events it removed.

    Every day carries its 7- and 30-day windows, not only a run's newest day, so that what the warehouse
    holds does not depend on how a range was split into runs (a trailing window costs about as much as the
    day itself on the default plant: see docs/features.md).

    ``window_statistics``: (first day, last day, min_end_share) -> the window's statistics from the engine
    that holds the marts (Spark's); None: DuckDB computes them from ``conn``'s marts."""
    fitness: dict[str, float | None] = {}
    with_batches = _has_batch_dimension(conn)
    for day in days:
        mined_windows = {}
        for window in day_windows(day, window_days):
            events = f"({mart_events_sql(window.first, window.end)})"
            batches = f"({window_batches_sql(window.first, window.end)})" if with_batches else None
            statistics = (
                None
                if window_statistics is None
                else window_statistics(window.first, window.end, settings.min_end_share)
            )
            mined = mine_window(
                conn, events, pictures_dir(day), f"{window.days}d", reference, settings, batches, statistics
            )
            mined_windows[window.days] = mined.tables
            if filters is not None:
                rows = json.loads(mined.filters.to_json(orient="records"))  # plain values, None for NA
                filters[f"{day} ({window.days} d)"] = rows
            if window.days == 1:
                fitness[day] = _write_daily_tables(conn, day, mined)
            log(f"{day} ({window.days} d): " + "; ".join(q.note for q in mined.quality.values()))
        write_day_windows(conn, day, mined_windows)
    return fitness


def _write_daily_tables(conn: duckdb.DuckDBPyConnection, day: str, mined) -> float | None:
    """The day's inductive model and its conformance into the two daily tables; returns its fitness."""
    model, quality = mined.models["inductive"], mined.quality["inductive"]
    conformance = ConformanceResult(
        model_name=quality.model_name,
        cases=quality.cases,
        events=model.events,
        variants=quality.variants,
        variants_used=quality.variants_replayed,
        cases_used=quality.cases_replayed,
        events_used=model.events,
        log_fitness=quality.token_fitness,
        fitting_traces_share=quality.fitting_cases_share,
        precision=quality.precision,
        note=quality.note,
    )
    note = mined.tables["models"].set_index("role").loc["inductive", "note"]
    write_results(
        conn, day, to_rows(day, replace(model, note=note), conformance, mined.pictures.get("inductive"))
    )
    return quality.token_fitness
