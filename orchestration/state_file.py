"""The operational state file (settings.state_path): what the teams own, apart from the warehouse.

Several processes write it in turn: a Dagster run (RCA cases, the delivery log), the `rca` and `alerts`
commands, and the alerting process beside the ingestion service, which writes every few seconds. DuckDB
takes one writing process per file and refuses a second at once, so every connection here is short and
waits its turn (up to ``wait_s``) instead of failing a run because an alert was being written.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.atomic_files import OWNER_ONLY, restrict_database

WAIT_S = 30.0  # longer than any one writer holds the file (a transaction of a few rows)


def is_lock_conflict(error: BaseException) -> bool:
    """DuckDB's refusal while another process holds the file ("Could not set lock ... Conflicting lock")."""
    return isinstance(error, duckdb.IOException) and "lock" in str(error).lower()


@contextmanager
def state_file(
    state_path: Path, read_only: bool = False, schema: str | None = None, wait_s: float = WAIT_S
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short connection to the state file in UTC, waiting while another process holds it; writers create
    it owner-only (recipients, notes and alerts are this account's) and ``schema`` (DDL) if given."""
    state_path = Path(state_path)
    if not read_only:
        state_path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    pause = 0.02
    while True:
        try:
            conn = duckdb.connect(str(state_path), read_only=read_only)
            break
        except duckdb.Error as error:
            if not is_lock_conflict(error) or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
    try:
        conn.execute("SET TimeZone = 'UTC'")
        if not read_only:
            restrict_database(state_path, OWNER_ONLY)
            if schema:
                conn.execute(schema)
        yield conn
    finally:
        conn.close()
