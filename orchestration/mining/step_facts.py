"""Every step's timing and rework flags, counted once for the bottlenecks, the rework loops and rates and the
start and end activities, a bucket of whole cases at a time (see buckets).

One window pass over the cases gives each step its processing time, its wait since the case's previous step,
and whether it repeats an activity of its case or sends the case back (its next step is a repeat). They are
counted into one temporary table, rows of three facts:

- ``processing``: per activity, machine and processing time (``seconds``);
- ``wait``: per activity, machine and wait (``seconds``, NULL for a case's first step);
- ``flags``: per activity, machine, shift, next activity and the flags is_first, is_last, is_sent_back,
  is_repeat.

The statistics read that table (``steps``: how many steps a row stands for), whatever the size of the log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from orchestration.mining.buckets import BUCKET_EVENTS, case_buckets, temp_table
from orchestration.mining.case_steps import CASE_ORDER, activity_code_type, route_character

COLUMNS = """fact varchar, activity varchar, machine_id varchar, shift_id varchar, next_activity varchar,
    is_first boolean, is_last boolean, is_sent_back boolean, is_repeat boolean, seconds double,
    steps bigint"""


@contextmanager
def counted_step_facts(conn, events: str, bucket_events: int = BUCKET_EVENTS) -> Iterator[str]:
    """The name of a temporary table of the counted step facts of ``events``, for the ``with`` block."""
    code = activity_code_type(conn, events)
    with temp_table(conn, "step_facts", COLUMNS) as facts:
        for bucket in case_buckets(conn, events, bucket_events):
            conn.execute(f"insert into {facts} by name {_step_facts_sql(bucket, code)}")
        yield facts


def _step_facts_sql(events: str, code: str) -> str:
    """One sort of the cases (every window shares case_order). Whether a step repeats an activity of its case,
    or sends the case back (its next activity is one the case already did, this one included), is read off
    the case's route so far, one character per activity (case_steps.route_character)."""
    flags = "activity, machine_id, shift_id, next_activity, is_first, is_last, is_sent_back, is_repeat"
    step = route_character("activity", code)
    return f"""
        with steps as (
            select activity, machine_id, shift_id, start_ts,
                   epoch(end_ts) - epoch(start_ts) as processing_s,
                   row_number() over case_order = 1 as is_first,
                   lag(end_ts) over case_order as previous_end_ts,
                   lead(activity) over case_order as next_activity,
                   coalesce(string_agg({step}, '') over before, '') as done_before
            from (select case_id, activity::{code} as activity, machine_id, shift_id, start_ts, end_ts,
                         event_seq from {events})
            window case_order as ({CASE_ORDER}),
                   before as (case_order rows between unbounded preceding and 1 preceding)
        ),
        flagged as (
            select activity::varchar as activity, machine_id, shift_id,
                   next_activity::varchar as next_activity, processing_s,
                   greatest(epoch(start_ts) - epoch(previous_end_ts), 0) as wait_s,  -- overlap: no wait
                   is_first, next_activity is null as is_last,
                   contains(done_before, {step}) as is_repeat,
                   next_activity is not null
                       and contains(done_before || {step}, {route_character("next_activity", code)})
                       as is_sent_back
            from steps
        )
        select case when grouping(processing_s) = 0 then 'processing'
                    when grouping(wait_s) = 0 then 'wait' else 'flags' end as fact,
               {flags}, coalesce(processing_s, wait_s) as seconds, count(*) as steps
        from flagged
        group by grouping sets (
            (activity, machine_id, processing_s), (activity, machine_id, wait_s), ({flags})
        )
    """
