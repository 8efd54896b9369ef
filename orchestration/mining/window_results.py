"""Window results as tables of schema process_mining, keyed by (window_end, window_days);
written idempotently.

A rerun of a window replaces its rows in every table (delete + insert in one transaction); tables are created
from the first rows written, so their columns are those of window_run's frames.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from orchestration.factory_calendar import as_date
from orchestration.mining.results import SCHEMA

WINDOW_TABLES = (
    "models",
    "model_quality",
    "deviations",
    "deviating_cases",
    "variants",
    "dfg",
    "start_end_activities",
    "throughput",
    "activity_bottlenecks",
    "machine_bottlenecks",
    "rework_loops",
    "rework_rates",
    "case_attribute_effects",
    "process_maps",
)


def _exists(conn, table: str) -> bool:
    return bool(
        conn.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [SCHEMA, table],
        ).fetchall()[0][0]
    )


def _widen_untyped_columns(conn, name: str) -> None:
    """A column created from rows that were all None has DuckDB's NULL type and would refuse real values
    later: give it the type of the rows now being written (it holds only NULLs, so nothing is converted)."""
    incoming = {
        column: kind.strip('"')
        for column, kind in conn.execute(
            "select column_name, column_type from (describe _window_rows)"
        ).fetchall()
    }
    untyped = conn.execute(
        "select column_name from information_schema.columns"
        " where table_schema = ? and table_name = ? and replace(data_type, '\"', '') = 'NULL'",
        [SCHEMA, name],
    ).fetchall()
    for (column,) in untyped:
        if incoming.get(column, "NULL") != "NULL":
            conn.execute(f'alter table {SCHEMA}.{name} alter column "{column}" type {incoming[column]}')


def write_window(
    conn, window_end: date | str, window_days: int, tables: dict[str, pd.DataFrame]
) -> dict[str, int]:
    """Replace the window's rows of each table in ``tables``; returns the rows written per table."""
    unknown = set(tables) - set(WINDOW_TABLES)
    if unknown:
        raise ValueError(f"unknown process-mining window tables {sorted(unknown)}")
    end = as_date(window_end)
    conn.execute(f"create schema if not exists {SCHEMA}")
    written: dict[str, int] = {}
    conn.execute("begin transaction")
    try:
        for name, frame in tables.items():
            table = f"{SCHEMA}.{name}"
            keyed = frame.copy()
            keyed.insert(0, "window_days", window_days)
            keyed.insert(0, "window_end", end)
            conn.register("_window_rows", keyed)
            try:
                if not _exists(conn, name):
                    if keyed.empty:
                        written[name] = 0
                        continue
                    conn.execute(f"create table {table} as select * from _window_rows limit 0")
                _widen_untyped_columns(conn, name)
                conn.execute(
                    f"delete from {table} where window_end = ? and window_days = ?", [end, window_days]
                )
                if not keyed.empty:
                    conn.execute(f"insert into {table} by name select * from _window_rows")
            finally:
                conn.unregister("_window_rows")
            written[name] = len(keyed)
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    return written
