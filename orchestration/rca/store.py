"""RCA cases and their history in the operational state file (schema `rca`), never in the warehouse.

The teams own a case once it is open: its status and every transition (who, when, from, to, note) are user
data. Re-running a day refreshes a case's analysis (signal, ranked factors, template) but never its status,
opening time or history; rebuilding the warehouse cannot touch this file at all.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from orchestration.state_file import state_file

STATUSES = ("open", "investigating", "action_defined", "verified", "closed")
# Each status may move to the next; a case may also go back one step (an action that did not verify) and be
# reopened for investigation after it was closed.
TRANSITIONS = {
    "open": {"investigating", "closed"},
    "investigating": {"action_defined", "open"},
    "action_defined": {"verified", "investigating"},
    "verified": {"closed", "action_defined"},
    "closed": {"investigating"},
}

SCHEMA = """
create schema if not exists rca;
create table if not exists rca.cases (
    case_id varchar primary key,
    opened_at timestamptz not null,
    production_date date not null,
    signal_kind varchar not null,
    signal varchar not null,
    activity varchar,
    machine_id varchar,
    characteristic varchar,
    status varchar not null,
    top_factor varchar,
    top_factor_effect_name varchar,
    top_factor_effect double,
    top_factor_p_value double,
    units_analysed bigint,
    recurring_of varchar,
    factors json,
    template json,
    analysed_at timestamptz not null
);
create table if not exists rca.case_events (
    case_id varchar not null,
    event_ts timestamptz not null,
    changed_by varchar not null,
    from_status varchar,
    to_status varchar not null,
    note varchar
);
"""


class IllegalTransition(ValueError):
    pass


@contextmanager
def state_connection(state_path: Path, read_only: bool = False):
    """A short connection to the state file with the ``rca`` schema, waiting while another process writes."""
    if read_only and not Path(state_path).exists():
        raise FileNotFoundError(f"no operational state at {state_path} yet: open cases with `rca open` first")
    with state_file(state_path, read_only=read_only, schema=None if read_only else SCHEMA) as conn:
        yield conn


def case_id_of(day: date, kind: str, activity: str, characteristic: str | None) -> str:
    """Stable, readable id: the same signal on the same day is the same case, however often it is re-run."""
    subject = characteristic or activity
    slug = "".join(ch if ch.isalnum() else "-" for ch in subject.lower()).strip("-")
    return f"RCA-{day:%Y%m%d}-{kind.replace('_', '-')}-{slug}"


def _rows(conn, sql: str, params: list | dict | None = None) -> list[dict]:
    cursor = conn.execute(sql, params or [])
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def earlier_case(conn, case: dict, within_days: int) -> str | None:
    """The most recent earlier case of the same signal kind on the same step and characteristic."""
    found = conn.execute(
        """
        select case_id from rca.cases
        where signal_kind = $kind and activity is not distinct from $activity
          and characteristic is not distinct from $characteristic
          and production_date < $day and production_date >= $day::date - $within
        order by production_date desc limit 1
        """,
        {
            "kind": case["signal_kind"],
            "activity": case["activity"],
            "characteristic": case["characteristic"],
            "day": case["production_date"],
            "within": within_days,
        },
    ).fetchone()
    return found[0] if found else None


def upsert_case(conn, case: dict, recurring_within_days: int, now: datetime | None = None) -> bool:
    """Insert a new case (status open, with its first history row) or refresh an existing case's analysis.

    Returns True when the case is new. Status, opened_at and history of an existing case are left alone.
    """
    now = now or datetime.now(UTC)
    case = {**case, "recurring_of": earlier_case(conn, case, recurring_within_days)}
    analysis = {
        k: case[k]
        for k in (
            "signal",
            "machine_id",
            "top_factor",
            "top_factor_effect_name",
            "top_factor_effect",
            "top_factor_p_value",
            "units_analysed",
            "recurring_of",
        )
    }
    analysis |= {"factors": json.dumps(case["factors"]), "template": json.dumps(case["template"])}
    exists = conn.execute("select 1 from rca.cases where case_id = ?", [case["case_id"]]).fetchone()
    if exists:
        assignments = ", ".join(f"{k} = ${k}" for k in analysis)
        conn.execute(
            f"update rca.cases set {assignments}, analysed_at = $now where case_id = $case_id",
            {**analysis, "now": now, "case_id": case["case_id"]},
        )
        return False
    row = {
        "case_id": case["case_id"],
        "opened_at": now,
        "production_date": case["production_date"],
        "signal_kind": case["signal_kind"],
        "activity": case["activity"],
        "characteristic": case["characteristic"],
        "status": "open",
        **analysis,
        "analysed_at": now,
    }
    conn.execute(f"insert into rca.cases ({', '.join(row)}) values ({', '.join('$' + k for k in row)})", row)
    conn.execute(
        "insert into rca.case_events values (?, ?, 'rca', null, 'open', ?)",
        [case["case_id"], now, case["signal"]],
    )
    return True


def transition(
    conn, case_id: str, to_status: str, changed_by: str, note: str | None = None, now: datetime | None = None
) -> dict:
    """Move a case to ``to_status``, recording who, when and why; refuses a move the lifecycle forbids."""
    if to_status not in STATUSES:
        raise IllegalTransition(f"unknown status {to_status!r}: one of {', '.join(STATUSES)}")
    found = conn.execute("select status from rca.cases where case_id = ?", [case_id]).fetchone()
    if found is None:
        raise KeyError(f"no RCA case {case_id!r}")
    current = found[0]
    if to_status not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current]))
        raise IllegalTransition(f"case {case_id} is {current}: it can move to {allowed}, not to {to_status}")
    now = now or datetime.now(UTC)
    conn.execute("update rca.cases set status = ? where case_id = ?", [to_status, case_id])
    conn.execute(
        "insert into rca.case_events values (?, ?, ?, ?, ?, ?)",
        [case_id, now, changed_by, current, to_status, note],
    )
    return {"case_id": case_id, "from_status": current, "to_status": to_status}


def list_cases(conn, status: str | None = None, since: date | None = None) -> list[dict]:
    return _rows(
        conn,
        """
        select case_id, production_date, status, signal_kind, activity, characteristic, top_factor,
               top_factor_effect_name, top_factor_effect, top_factor_p_value, recurring_of, signal
        from rca.cases
        where ($status::varchar is null or status = $status::varchar)
          and ($since::date is null or production_date >= $since::date)
        order by production_date desc, case_id
        """,
        {"status": status, "since": since},
    )


def show_case(conn, case_id: str) -> dict:
    cases = _rows(conn, "select * from rca.cases where case_id = ?", [case_id])
    if not cases:
        raise KeyError(f"no RCA case {case_id!r}")
    case = cases[0]
    for column in ("factors", "template"):
        case[column] = json.loads(case[column]) if case[column] else None
    case["history"] = _rows(
        conn,
        "select event_ts, changed_by, from_status, to_status, note from rca.case_events"
        " where case_id = ? order by event_ts, to_status",
        [case_id],
    )
    return case
