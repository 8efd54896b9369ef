"""Process mining of factory days as the daily pipeline runs it: each day, and the 7 and 30 days ending on the
newest day of a run, written to the window tables; the day's inductive model and its conformance also fill
the two daily tables the reports read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import duckdb

from orchestration.factory_calendar import as_date
from orchestration.mining.case_attributes import window_batches_sql
from orchestration.mining.case_steps import mart_events_sql
from orchestration.mining.conformance import ConformanceResult
from orchestration.mining.reference_model import designed_route_model, supplied_model
from orchestration.mining.results import to_rows, write_results
from orchestration.mining.window_results import write_window
from orchestration.mining.window_run import MiningSettings, mine_window
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
    rolling_windows_every_day: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, float | None]:
    """Mine ``days`` and write every window table; returns the token-replay fitness of each day's model.

    Rolling windows (longer than a day) cost up to half a minute each on a job shop: a run mines them for its
    newest day only (unless ``rolling_windows_every_day``), so the daily schedule has them every day and a
    backfill ends with them."""
    fitness: dict[str, float | None] = {}
    with_batches = _has_batch_dimension(conn)
    newest = max(days)
    for day in days:
        end = as_date(day)
        windows = sorted(set(window_days))
        if day != newest and not rolling_windows_every_day:
            windows = [length for length in windows if length == 1]
        for length in windows:
            first = end - timedelta(days=length - 1)
            events = f"({mart_events_sql(first, end)})"
            batches = f"({window_batches_sql(first, end)})" if with_batches else None
            mined = mine_window(conn, events, pictures_dir(day), f"{length}d", reference, settings, batches)
            write_window(conn, end, length, mined.tables)
            if length == 1:
                fitness[day] = _write_daily_tables(conn, day, mined)
            log(f"{day} ({length} d): " + "; ".join(q.note for q in mined.quality.values()))
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
