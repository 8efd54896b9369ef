"""Window results as tables of schema process_mining, keyed by (window_end, window_days);
written idempotently.

Every factory day owns the windows ending on it (the day and the 7 and 30 days ending on it), whichever run
mines it: a range run and day-by-day runs write the same rows, and a rerun of a day replaces all rows ending
on that day (delete + insert in one transaction), never adds. Tables are created from the first rows written,
so their columns are those of window_run's frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

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


WHOLE_LOG = 0  # a window length: every day up to and including the window's end (the whole log so far)


@dataclass(frozen=True)
class Window:
    end: date  # the factory day that owns the window
    days: int  # WHOLE_LOG: from the log's first day

    @property
    def first(self) -> date:
        return date.min if self.days == WHOLE_LOG else self.end - timedelta(days=self.days - 1)


def day_windows(day: date | str, window_days: list[int]) -> list[Window]:
    """The windows factory day ``day`` owns: one per length, ending on it. A function of the day alone, not of
    the run that mines it, so that the warehouse does not depend on how a range was split into runs."""
    end = as_date(day)
    if any(length < 0 for length in window_days):
        raise ValueError(f"window lengths are days >= 1, or {WHOLE_LOG} for the whole log: {window_days}")
    return [Window(end, length) for length in sorted(set(window_days))]


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
    return _replace(conn, as_date(window_end), {window_days: tables}, whole_day=False)[window_days]


def write_day_windows(
    conn, day: date | str, windows: dict[int, dict[str, pd.DataFrame]]
) -> dict[int, dict[str, int]]:
    """Replace every row of every window table that ends on ``day`` (whatever its length: a day owns them all,
    so a length no longer mined leaves nothing behind) by ``windows`` (length -> table -> rows), in one
    transaction; returns the rows written per length and table."""
    return _replace(conn, as_date(day), windows, whole_day=True)


def _replace(
    conn, end: date, windows: dict[int, dict[str, pd.DataFrame]], whole_day: bool
) -> dict[int, dict[str, int]]:
    unknown = {name for tables in windows.values() for name in tables} - set(WINDOW_TABLES)
    if unknown:
        raise ValueError(f"unknown process-mining window tables {sorted(unknown)}")
    conn.execute(f"create schema if not exists {SCHEMA}")
    written: dict[int, dict[str, int]] = {length: {} for length in windows}
    conn.execute("begin transaction")
    try:
        if whole_day:
            for name in WINDOW_TABLES:
                if _exists(conn, name):
                    conn.execute(f"delete from {SCHEMA}.{name} where window_end = ?", [end])
        for length, tables in windows.items():
            for name, frame in tables.items():
                written[length][name] = _replace_rows(conn, name, end, length, frame)
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    return written


def _replace_rows(conn, name: str, end: date, window_days: int, frame: pd.DataFrame) -> int:
    """The window's rows of one table replaced by ``frame``; returns the rows written."""
    table = f"{SCHEMA}.{name}"
    keyed = frame.copy()
    keyed.insert(0, "window_days", window_days)
    keyed.insert(0, "window_end", end)
    conn.register("_window_rows", keyed)
    try:
        if not _exists(conn, name):
            if keyed.empty:
                return 0
            conn.execute(f"create table {table} as select * from _window_rows limit 0")
        _widen_untyped_columns(conn, name)
        conn.execute(f"delete from {table} where window_end = ? and window_days = ?", [end, window_days])
        if not keyed.empty:
            conn.execute(f"insert into {table} by name select * from _window_rows")
    finally:
        conn.unregister("_window_rows")
    return len(keyed)
