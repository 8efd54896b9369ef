"""Which mining windows a factory day owns, and how a rerun of the day replaces them: the rule that makes
the window tables the same however a range of days is split into runs (the whole graph:
test_range_equals_days)."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from orchestration.mining.window_results import Window, day_windows, write_day_windows
from orchestration.partition_ranges import days_between, halves

LENGTHS = [1, 7, 30]
DAY_9 = "2026-11-09"


def windows_of_runs(runs: list[list[str]]) -> list[Window]:
    return sorted(
        (w for days in runs for day in days for w in day_windows(day, LENGTHS)), key=lambda w: (w.end, w.days)
    )


def test_every_day_owns_a_window_of_each_length_ending_on_it():
    assert day_windows("2026-11-11", [30, 1, 7, 7]) == [
        Window(date(2026, 11, 11), 1),
        Window(date(2026, 11, 11), 7),
        Window(date(2026, 11, 11), 30),
    ]
    assert [w.first for w in day_windows("2026-11-11", LENGTHS)] == [
        date(2026, 11, 11),
        date(2026, 11, 5),
        date(2026, 10, 13),
    ]


def test_a_whole_log_window_runs_from_the_first_event_up_to_its_day():
    """Length 0 (WHOLE_LOG): the mart's events of every day up to the window's end, for logs of long cases."""
    from orchestration.mining.case_steps import mart_events_sql
    from orchestration.mining.window_results import WHOLE_LOG

    (whole,) = day_windows("2026-11-11", [WHOLE_LOG])
    assert whole.first == date.min and whole.end == date(2026, 11, 11)
    conn = duckdb.connect()
    conn.execute("create schema marts")
    conn.execute(
        """create table marts.fct_process_events as select 'B' || d as case_id, 'Coating' as activity,
           'M1' as machine_id, null as shift_id, ts as start_ts, ts as end_ts, d as event_id,
           ts::date as production_date
           from (select range as d, timestamp '2020-01-01' + to_days(range::int * 100) as ts
                 from range(30))"""
    )
    (events,) = conn.execute(f"select count(*) from ({mart_events_sql(whole.first, whole.end)})").fetchone()
    assert events == 26  # 2020-01-01 + 100 d steps up to 2026-11-11 (k = 0..25), none after


def test_the_windows_of_a_range_do_not_depend_on_how_it_is_split_into_runs():
    week = days_between("2026-11-09", "2026-11-15")
    in_one_run = windows_of_runs([week])
    assert in_one_run == windows_of_runs(halves(week))
    assert in_one_run == windows_of_runs([[day] for day in week])
    assert len(in_one_run) == len(week) * len(LENGTHS)  # the newest day is not special


def _tables(cases: int) -> dict[str, pd.DataFrame]:
    return {"throughput": pd.DataFrame({"case_id": [f"B{n}" for n in range(cases)]})}


def test_a_rerun_of_a_day_replaces_every_window_row_it_owns_and_nothing_else():
    with duckdb.connect() as conn:
        for day in ["2026-11-09", "2026-11-10"]:
            write_day_windows(conn, day, {1: _tables(2), 7: _tables(3), 30: _tables(4)})
        # the 10th again, with fewer rows and without its 30-day window (a length no longer mined)
        write_day_windows(conn, "2026-11-10", {1: _tables(1), 7: _tables(1)})
        write_day_windows(conn, "2026-11-10", {1: _tables(1), 7: _tables(1)})
        rows = conn.execute(
            "select window_end::varchar, window_days, count(*) from process_mining.throughput"
            " group by all order by all"
        ).fetchall()
    assert rows == [
        ("2026-11-09", 1, 2),
        ("2026-11-09", 7, 3),
        ("2026-11-09", 30, 4),
        ("2026-11-10", 1, 1),
        ("2026-11-10", 7, 1),
    ]


def test_a_windows_batches_are_taken_as_they_stood_at_its_end():
    """A batch released on the 9th and finished on the 10th: the 9th's window sees it in progress, however
    many later days the warehouse holds when it is mined."""
    from orchestration.mining.case_attributes import window_batches_sql

    with duckdb.connect() as conn:
        conn.execute("create schema marts")
        conn.execute(
            "create table marts.fct_process_events as select * from (values"
            " ('B1', 'M1', false, timestamptz '2026-11-09 08:00:00+00', date '2026-11-09'),"
            " ('B1', 'COAT', true, timestamptz '2026-11-10 08:00:00+00', date '2026-11-10'),"
            " ('B1', 'M9', false, timestamptz '2026-11-10 09:00:00+00', date '2026-11-10'))"
            " as t(case_id, machine_id, is_rework, end_ts, production_date)"
        )
        conn.execute(
            "create table marts.dim_batch as select 'B1' as case_id, date '2026-11-09' as release_date,"
            " 'S1' as entry_shift_id, true as is_completed,"
            " timestamptz '2026-11-10 09:00:00+00' as completed_ts,"
            " 90000.0 as throughput_time_s, 1::bigint as rework_step_count,"
            " 'COAT' as ambient_step_machine_id, 21.5 as ambient_step_temperature_c"
        )
        conn.execute("create table marts.dim_shift as select 'S1' as shift_id, 'early' as shift_name")
        outcomes = "is_completed, throughput_time_s, rework_step_count, ambient_step_temperature_c"
        as_of = {
            last: conn.execute(
                f"select {outcomes} from ({window_batches_sql('2026-11-09', last)})"
            ).fetchall()
            for last in ["2026-11-09", "2026-11-10"]
        }
    assert as_of == {DAY_9: [(False, None, 0, None)], "2026-11-10": [(True, 90000.0, 1, 21.5)]}
