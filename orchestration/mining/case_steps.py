"""The event log as DuckDB SQL: every step of a case with its neighbours, the base of all flow statistics.

The statistics run in the warehouse, not in pandas, so they scale with it. They read any relation (table,
view or ``read_parquet(...)``) with the columns of ``EVENT_COLUMNS``; ``event_seq`` breaks ties between
steps of a case that end at the same instant (the mart's event id, a source file's row number), in the same
way pm4py breaks them by the frame's row order.
"""

from __future__ import annotations

from datetime import date

from orchestration.factory_calendar import as_date

EVENT_COLUMNS = ("case_id", "activity", "machine_id", "shift_id", "start_ts", "end_ts", "event_seq")

# A case's steps in time order: by end (pm4py's timestamp), then the tie-breaker.
CASE_ORDER = "partition by case_id order by end_ts, event_seq"


def activity_code_type(conn, events: str) -> str:
    """An ENUM type of the relation's activities, to sort and group by a one-byte code rather than a string
    (a third less time on 10M events); VARCHAR when there are none."""
    activities = [a for (a,) in conn.execute(f"select distinct activity from {events} order by 1").fetchall()]
    quoted = ", ".join("'" + a.replace("'", "''") + "'" for a in activities if a is not None)
    return f"enum({quoted})" if quoted else "varchar"


def mart_events_sql(first_day: date | str, last_day: date | str) -> str:
    """The mart's events of the factory days ``first_day`` .. ``last_day`` in the statistics' columns."""
    first, last = as_date(first_day).isoformat(), as_date(last_day).isoformat()
    return f"""
        select case_id, activity, machine_id, shift_id, start_ts, end_ts, event_id as event_seq
        from marts.fct_process_events
        where production_date between date '{first}' and date '{last}'
          and case_id is not null and activity is not null and end_ts is not null
    """


def case_steps_sql(events: str) -> str:
    """Each step with its position in the case, the step before and after it, and whether it repeats an
    activity the case already did. ``events`` is a relation name or a parenthesised query."""
    return f"""
        select
            case_id, activity, machine_id, shift_id, start_ts, end_ts,
            epoch(end_ts) - epoch(start_ts) as processing_s,
            row_number() over case_order as position,
            lag(activity) over case_order as previous_activity,
            lag(end_ts) over case_order as previous_end_ts,
            lead(activity) over case_order as next_activity,
            lead(start_ts) over case_order as next_start_ts,
            lead(machine_id) over case_order as next_machine_id,
            count(*) over (partition by case_id, activity order by end_ts, event_seq
                           rows between unbounded preceding and current row) > 1 as is_repeat
        from {events}
        window case_order as ({CASE_ORDER})
    """
