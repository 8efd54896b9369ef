"""The day's action list: the few things that need a decision today, each with what, where, how big against
its limit or normal, since when, the owning role, and the report section that holds the evidence.

Derived from what the reports already read, with fixed thresholds (not tuned to any plant's data):

- a blocking data-quality check failed: figures depending on it are missing or stale (critical, owner
  ``production``, who runs the systems the data come from);
- an RCA case opened for the day (rework, scrap, SPC or a recurring defect: the RCA signals' own statistical
  limits, about one false case in several months on a healthy plant) (high, owner ``quality``);
- the step cases wait longest for waits at least ``QUEUE_FACTOR`` times its own mean wait of the previous
  ``QUEUE_BASELINE_DAYS`` days (at least ``QUEUE_MIN_DAYS`` of them): a designed bottleneck queueing as usual
  needs no decision, one queueing twice as long does (high, owner ``production``);
- a machine down longer than ``REPAIR_FACTOR`` times the MTTR target (data/reporting/targets.yaml) in the
  day: a repair, not a reset (critical, owner ``maintenance``).

At most ``MAX_ACTIONS`` are listed, critical first; a day without any says so in one sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orchestration.reporting.queries import rows, table_columns, table_exists
from orchestration.reporting.section import DaySource
from orchestration.reporting.sections_data_quality import blocking_failures
from orchestration.reporting.sections_quality import read_rca_cases

MAX_ACTIONS = 5
QUEUE_FACTOR = 2.0
QUEUE_BASELINE_DAYS = 7
QUEUE_MIN_DAYS = 3
REPAIR_FACTOR = 2.0
DEFAULT_MTTR_TARGET_S = 3600.0  # when targets.yaml sets no MTTR target
SEVERITIES = ("critical", "high")
HEALTHY = "Nothing needs a decision today: every check passed, no RCA case opened, no queue beyond twice its "
HEALTHY += "normal, no machine down for a repair."


@dataclass(frozen=True)
class Action:
    what: str  # the decision to take, in one sentence
    where: str  # line, step, machine or batch
    size: str  # how big, against its limit or normal
    since: str  # when it started (the factory's time) or the day
    owner: str  # the role that acts (data/reporting/roles.yaml)
    severity: str  # critical | high
    evidence: str  # the section of the report that shows it

    def as_json(self) -> dict[str, Any]:
        return dict(vars(self))


def _local(ts: datetime | None, timezone: str) -> str:
    from zoneinfo import ZoneInfo

    return "" if ts is None else ts.astimezone(ZoneInfo(timezone)).strftime("%a %d %b %H:%M")


def _minutes(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def blocked_data(source: DaySource) -> list[Action]:
    return [
        Action(
            what=f"Repair the data: {failure}; figures depending on it are missing or stale.",
            where="data feed",
            size="day held back",
            since=source.day.isoformat(),
            owner="production",
            severity="critical",
            evidence="data_quality",
        )
        for failure in blocking_failures(source)
    ]


KIND_WORDS = {"rework": "rework", "scrap": "scrap", "spc": "out of control", "recurring_defect": "recurring"}


def _signal_size(statement: str) -> str:
    """The signal's size against its limit: its sentence without the step it names and the detail after."""
    size = statement.split(": ", 1)[-1]
    for detail in ("; first:", "; by chance"):
        size = size.split(detail, 1)[0]
    return size + ")" * (size.count("(") - size.count(")"))


def rca_cases_of_day(source: DaySource) -> list[Action]:
    """Cases opened for the day (their statistics already judged them beyond chance)."""
    cases = read_rca_cases(source.rca_state, []) or []
    actions = []
    for case in cases:
        if str(case["production_date"]) != source.day.isoformat():
            continue
        factor = f"; top factor {case['top_factor']}" if case["top_factor"] else ""
        where = " / ".join(str(p) for p in (case["activity"], case["machine_id"]) if p) or "plant"
        subject = str(case.get("characteristic") or "").replace("_", " ")
        kind = KIND_WORDS.get(case["signal_kind"], case["signal_kind"])
        actions.append(
            Action(
                what=f"Find the cause of {subject + ' ' if subject else 'the '}{kind} at "
                f"{case['activity'] or 'the plant'} (case {case['case_id']}{factor}).",
                where=where,
                size=_signal_size(str(case["signal"])),
                since=source.day.isoformat(),
                owner="quality",
                severity="high",
                evidence="rca_cases",
            )
        )
    return actions


def queue_beyond_normal(source: DaySource) -> list[Action]:
    """The day's longest queue when it is ``QUEUE_FACTOR`` times its step's own normal."""
    table = "process_mining.activity_bottlenecks"
    if not table_exists(source.conn, table):
        return []
    found = rows(
        source.conn,
        f"""
        with daily as (select window_end, activity, mean_wait_s, executions from {table}
                       where window_days = 1 and window_end between $day::date - $days and $day::date),
        top as (select activity, mean_wait_s, executions from daily where window_end = $day::date
                order by mean_wait_s desc nulls last limit 1)
        select top.activity, top.mean_wait_s, top.executions,
               avg(daily.mean_wait_s) filter (where daily.window_end < $day::date) as normal_wait_s,
               count(daily.mean_wait_s) filter (where daily.window_end < $day::date) as normal_days
        from top left join daily using (activity) group by all
        """,
        {"day": source.day, "days": QUEUE_BASELINE_DAYS},  # type: ignore[arg-type]
    )
    if not found:
        return []
    top = found[0]
    normal, wait = top["normal_wait_s"], top["mean_wait_s"]
    if wait is None or not normal or top["normal_days"] < QUEUE_MIN_DAYS or wait < QUEUE_FACTOR * normal:
        return []
    return [
        Action(
            what=f"Relieve {top['activity']}: cases queue {wait / normal:.1f} times as long as normal "
            "before it.",
            where=f"step {top['activity']}",
            size=f"mean wait {_minutes(wait)} against {_minutes(normal)} over the previous "
            f"{top['normal_days']} days",
            since=source.day.isoformat(),
            owner="production",
            severity="high",
            evidence="bottlenecks",
        )
    ]


def machines_under_repair(source: DaySource, mttr_target_s: float | None) -> list[Action]:
    limit = REPAIR_FACTOR * (mttr_target_s or DEFAULT_MTTR_TARGET_S)
    intervals, per_day = "marts.fct_machine_state_intervals", "marts.fct_oee_machine_day"
    needed = {"breakdown_count", "breakdown_time_s", "line_id", "activity"}
    if not table_exists(source.conn, per_day) or needed - table_columns(source.conn, per_day):
        return []  # an older or partial mart: the breakdowns section says what is missing
    first_breakdown = (
        f"(select min(start_ts) from {intervals} i where i.machine_id = m.machine_id "
        "and i.production_date = m.production_date and i.state = 'breakdown')"
        if table_exists(source.conn, intervals) and "production_date" in table_columns(source.conn, intervals)
        else "null::timestamptz"  # since the day, then
    )
    found = rows(
        source.conn,
        "select machine_id, line_id, activity, breakdown_count, breakdown_time_s, "
        f"{first_breakdown} as since from {per_day} m "
        "where production_date = $day and breakdown_time_s >= $limit "
        "order by breakdown_time_s desc, machine_id",
        {"day": source.day, "limit": limit},  # type: ignore[arg-type]
    )
    return [
        Action(
            what=f"Get {machine['machine_id']} back and find why it failed: down "
            f"{_minutes(machine['breakdown_time_s'])} in {machine['breakdown_count']} breakdowns.",
            where=" / ".join(
                str(p) for p in (machine["line_id"], machine["activity"], machine["machine_id"]) if p
            ),
            size=f"down {_minutes(machine['breakdown_time_s'])}, over {REPAIR_FACTOR:g} x the MTTR target of "
            f"{_minutes(limit / REPAIR_FACTOR)}",
            since=_local(machine["since"], source.timezone) or source.day.isoformat(),
            owner="maintenance",
            severity="critical",
            evidence="breakdowns",
        )
        for machine in found
    ]


def day_actions(source: DaySource, mttr_target_s: float | None) -> list[Action]:
    """Every action of the day, critical first (in rule order within a severity); cached per day."""
    key = "actions"
    if key not in source.cache:
        found = [
            *blocked_data(source),
            *machines_under_repair(source, mttr_target_s),
            *rca_cases_of_day(source),
            *queue_beyond_normal(source),
        ]
        source.cache[key] = sorted(found, key=lambda a: SEVERITIES.index(a.severity))
    return source.cache[key]


def role_actions(actions: list[Action], role: str) -> list[Action]:
    """The role's own actions first, then the others it should know of; at most ``MAX_ACTIONS``."""
    mine = [a for a in actions if a.owner == role]
    return (mine + [a for a in actions if a.owner != role])[:MAX_ACTIONS]
