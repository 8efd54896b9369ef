"""distribution.delivery_log in the operational state file: the outbox and the history of every delivery.

A row per step of a delivery (a report to a recipient by a channel), appended and committed as it happens:
``pending`` before the send, then ``delivered`` or ``failed`` (with the reason) after it, ``retrying`` for
each attempt that failed and is tried again; ``unchanged`` and ``dry_run`` for deliveries not sent. Rows of
the same delivery share its ``delivery_id``. A commit is durable when it returns (DuckDB fsyncs its
write-ahead log at commit), so a process killed at any point leaves every send it started as ``pending``.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import astuple, dataclass, fields
from datetime import date, datetime
from pathlib import Path

from orchestration.state_file import state_file

SCHEMA = """
create schema if not exists distribution;
create table if not exists distribution.delivery_log (
    report varchar not null,        -- daily | handover/<shift>
    day date not null,
    role varchar not null,
    recipient varchar not null,     -- mail address, or the role's directory in the shared folder
    channel varchar not null,       -- email | shared_folder
    status varchar not null,        -- pending | retrying | delivered | failed | unchanged | dry_run
    attempts integer not null,
    error varchar,
    complete boolean,               -- the report itself was complete (blocking checks passed)
    delivered_at timestamptz,       -- null unless delivered
    logged_at timestamptz not null,
    content_sha varchar             -- the report's content (see deliver.content_fingerprint)
);
alter table distribution.delivery_log add column if not exists content_sha varchar;  -- state files before it
alter table distribution.delivery_log add column if not exists delivery_id varchar;  -- ... before the outbox
alter table distribution.delivery_log add column if not exists message_id varchar;
alter table distribution.delivery_log add column if not exists note varchar;
"""

STARTED = "pending"
FINISHED = ("delivered", "failed")  # what closes a pending delivery


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
    delivery_id: str | None = None  # the rows of one delivery: pending, retrying..., delivered | failed
    message_id: str | None = None  # the mail's Message-ID, the same on every attempt of the delivery
    note: str | None = None  # e.g. that a delivery resent after a crash may be a duplicate


@dataclass(frozen=True)
class InDoubt:
    """A delivery a run started and never closed: it was killed between ``pending`` and the outcome."""

    delivery_id: str
    message_id: str | None
    attempts: int


@contextmanager
def _connect(state_path: Path):
    """The state file with the ``distribution`` schema (recipients and errors: this account only)."""
    with state_file(state_path, schema=SCHEMA) as conn:
        yield conn


def log_deliveries(state_path: Path, deliveries: list[Delivery]) -> None:
    """Append the rows in one short write (DuckDB: one writer per file), committed when it returns."""
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


def in_doubt(state_path: Path, report: str, day: date) -> dict[tuple[str, str, str, str], InDoubt]:
    """The deliveries of ``report`` for ``day`` left ``pending`` by a killed run, by (role, recipient,
    channel, content_sha): each may or may not have reached its recipient."""
    if not Path(state_path).exists():
        return {}
    with _connect(state_path) as conn:
        rows = conn.execute(
            """
            select role, recipient, channel, content_sha, delivery_id, any_value(message_id),
                   max(attempts) filter (where status in ('pending', 'retrying'))
            from distribution.delivery_log
            where report = ? and day = ? and delivery_id is not null and content_sha is not null
            group by all
            having count(*) filter (where status in ('delivered', 'failed')) = 0
            order by min(logged_at)
            """,
            [report, day],
        ).fetchall()
    return {tuple(row[:4]): InDoubt(row[4], row[5], row[6] or 0) for row in rows}
