"""Schema ``alerts`` in the operational state file (beside ``distribution`` and ``rca``, never in the
warehouse, so a rebuild never erases an alert or its history).

- ``alerts.alerts``: one row per alert (one team told of one open problem), its current state;
- ``alerts.alert_events``: every change of an alert (raised, updated, escalated, suppressed, summarized,
  renotified, acknowledged, shelved, unshelved, returned, reactivated, cleared, closed), appended, never
  rewritten: the alert's history;
- ``alerts.outbox``: every message to a channel target, committed ``pending`` in the same transaction as the
  change that calls for it, then ``sending`` (claimed by a process) before the send and ``delivered`` after it
  (or ``retrying`` / ``failed`` with the reason). A process killed at any point leaves nothing unsent and
  nothing sent twice but the one message it had in flight, which is resent with the same message id.

Connections are short (DuckDB: one writing process per file): the alerting process, the CLI and the Dagster
asset take turns, each waiting briefly for the file when another holds it.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.state_file import state_file

SCHEMA = """
create schema if not exists alerts;
create table if not exists alerts.alerts (
    alert_id varchar not null,          -- short, typed by people: alerts ack <id>
    team varchar not null,              -- a role of data/reporting/roles.yaml
    rule varchar not null,              -- the rule of data/alerting/rules.yaml that routed it
    signal varchar not null,            -- sensor_anomaly | ingestion_silence | spc_rule | ...
    problem_key varchar not null,       -- the problem: one open alert per team and key (de-duplication)
    priority varchar not null,          -- critical | high | low
    machine_id varchar,
    subject varchar,
    sentence varchar not null,          -- what is wrong, where, how big, since when
    state varchar not null,             -- active | returned (to normal, not yet acknowledged) | closed
    acknowledged boolean not null,
    raised_at timestamptz not null,     -- on the readings' clock for live signals
    updated_at timestamptz not null,
    returned_at timestamptz,
    acknowledged_at timestamptz,
    acknowledged_by varchar,
    shelved_until timestamptz,
    closed_at timestamptz,
    last_notified_at timestamptz,
    suppressed boolean not null,        -- raised during a flood: told in a summary, not on its own
    summary_id varchar,                 -- the summary that told it
    occurrences integer not null        -- times the problem came back while the alert was open
);
create table if not exists alerts.alert_events (
    alert_id varchar not null,
    event_ts timestamptz not null,      -- when it happened (the readings' clock for live signals)
    logged_at timestamptz not null,     -- when it was written (wall clock)
    event varchar not null,
    actor varchar,                      -- who: a person (ack, shelve, clear) or the process
    detail varchar
);
create table if not exists alerts.outbox (
    message_id varchar not null,        -- the same on every attempt (Message-ID, X-Alert-Message-Id)
    notice_id varchar not null,         -- one notification: its messages to every channel target
    alert_id varchar,                   -- null for a flood summary
    team varchar not null,
    kind varchar not null,              -- raise | update | renotify | return | summary
    channel varchar not null,           -- email | webhook | mqtt
    target varchar not null,            -- a mail address, the webhook's environment variable, a topic
    title varchar not null,
    body varchar not null,
    payload json not null,
    created_at timestamptz not null,    -- on the clock of the change that called for it
    status varchar not null,            -- pending | sending | retrying | delivered | failed
    attempts integer not null,
    next_attempt_at timestamptz not null,   -- wall clock
    claimed_by varchar,                 -- the process sending it (host:pid)
    delivered_at timestamptz,
    error varchar,
    note varchar                        -- e.g. resent after a crash: may be a duplicate (same message id)
);
"""


@contextmanager
def connect(state_path: Path, wait_s: float = 30.0):
    """A short connection to the state file with the ``alerts`` schema, waiting up to ``wait_s`` while
    another process holds the file."""
    with state_file(state_path, schema=SCHEMA, wait_s=wait_s) as conn:
        yield conn


@contextmanager
def transaction(state_path: Path, wait_s: float = 30.0):
    """One transaction on the state file: committed when the block ends, rolled back if it raises."""
    with connect(state_path, wait_s) as conn:
        conn.execute("begin transaction")
        try:
            yield conn
        except BaseException:
            conn.execute("rollback")
            raise
        conn.execute("commit")


def rows(conn: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> list[dict]:
    result = conn.execute(sql, params or [])
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
