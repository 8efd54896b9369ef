"""distribution.delivery_log in the operational state file: a row per delivery of a report to a recipient."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import astuple, dataclass, fields
from datetime import date, datetime
from pathlib import Path

import duckdb

SCHEMA = """
create schema if not exists distribution;
create table if not exists distribution.delivery_log (
    report varchar not null,        -- daily | handover/<shift>
    day date not null,
    role varchar not null,
    recipient varchar not null,     -- mail address, or the role's directory in the shared folder
    channel varchar not null,       -- email | shared_folder
    status varchar not null,        -- delivered | unchanged (had it already) | failed | dry_run
    attempts integer not null,
    error varchar,
    complete boolean,               -- the report itself was complete (blocking checks passed)
    delivered_at timestamptz,       -- null unless delivered
    logged_at timestamptz not null,
    content_sha varchar             -- the report's content (see deliver.content_fingerprint)
);
alter table distribution.delivery_log add column if not exists content_sha varchar;  -- state files before it
"""


@dataclass(frozen=True)
class Delivery:
    report: str
    day: date
    role: str
    recipient: str
    channel: str
    status: str
    attempts: int
    error: str | None
    complete: bool | None
    delivered_at: datetime | None
    logged_at: datetime
    content_sha: str | None = None


@contextmanager
def _connect(state_path: Path):
    Path(state_path).parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(state_path))
    try:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute(SCHEMA)
        yield conn
    finally:
        conn.close()


def log_deliveries(state_path: Path, deliveries: list[Delivery]) -> None:
    """Append the rows in one short write (DuckDB: one writer per file)."""
    if not deliveries:
        return
    columns = ", ".join(f.name for f in fields(Delivery))
    marks = ", ".join("?" for _ in fields(Delivery))
    with _connect(state_path) as conn:
        conn.executemany(
            f"insert into distribution.delivery_log ({columns}) values ({marks})",
            [astuple(d) for d in deliveries],
        )


def delivered_before(state_path: Path, report: str, day: date) -> set[tuple[str, str, str, str]]:
    """(role, recipient, channel, content_sha) of every delivery of ``report`` for ``day`` that went out."""
    if not Path(state_path).exists():
        return set()
    with _connect(state_path) as conn:
        rows = conn.execute(
            "select distinct role, recipient, channel, content_sha from distribution.delivery_log "
            "where report = ? and day = ? and status = 'delivered' and content_sha is not null",
            [report, day],
        ).fetchall()
    return {tuple(row) for row in rows}
