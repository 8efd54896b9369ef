"""The day's action list: the few things that need a decision today, each with what, where, how big against
its limit or normal, since when, the owning role, and the report section that holds the evidence.

Derived from what the reports already read, with fixed thresholds (not tuned to any plant's data):

- a blocking data-quality check failed: figures depending on it are missing or stale (critical, owner
  ``production``, who runs the systems the data come from);
- an RCA case opened for the day (rework, scrap, SPC or a recurring defect: the RCA signals' own statistical
  limits, about one false case in several months on a healthy plant) (high, owner ``quality``);
- a machine stopped by one breakdown for longer than ``REPAIR_FACTOR`` times the MTTR target
  (data/reporting/targets.yaml): a repair, not a reset; repair times are about exponential, so a plant
  meeting its target sees such a stop about once in 20 breakdowns x e^-3 (critical, owner ``maintenance``);
- the day's bottleneck (the step cases wait longest for) losing capacity to a problem of the day: cases
  queue at least ``QUEUE_FACTOR`` times its mean wait of the previous ``QUEUE_BASELINE_DAYS`` days (at least
  ``QUEUE_MIN_DAYS`` of them) and the step has an RCA case of the day or a machine under repair. Queues alone
  swing threefold from day to day on a healthy plant; time lost at the bottleneck is lost for the whole
  plant (high, owner ``production``).

At most ``MAX_ACTIONS`` are listed, critical first; a day without any says so in one sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orchestration.reporting.queries import rows, table_columns, table_exists
from orchestration.reporting.section import DaySource, characteristic_name
from orchestration.reporting.sections_data_quality import blocking_failures
from orchestration.reporting.sections_quality import read_rca_cases

MAX_ACTIONS = 5
QUEUE_FACTOR = 2.0
QUEUE_BASELINE_DAYS = 7
QUEUE_MIN_DAYS = 3
REPAIR_FACTOR = 3.0
DEFAULT_MTTR_TARGET_S = 3600.0  # when targets.yaml sets no MTTR target
SEVERITIES = ("critical", "high")
HEALTHY = "Nothing needs a decision today: every check passed, no RCA case opened, no machine down for a "
HEALTHY += "repair, no bottleneck losing capacity."


@dataclass(frozen=True)
class Action:
    what: str  # the decision to take, in one sentence
    where: str  # line, step, machine or batch
    size: str  # how big, against its limit or normal
    since: str  # when it started (the factory's time) or the day
    owner: str  # the role that acts (data/reporting/roles.yaml)
    severity: str  # critical | high
    evidence: str  # the section of the report that shows it
    step: str | None = None  # the route step it is at, when it is at one (not in the JSON twin)
    cause: str | None = None  # the problem in a few words, for an action it causes (not in the JSON twin)

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k not in ("step", "cause")}


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
        subject = characteristic_name(str(case.get("characteristic") or "")).lower()
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
                step=case["activity"],
                cause=f"{subject + ' ' if subject else ''}{kind}",
            )
        )
    return actions


def bottleneck_losing_capacity(source: DaySource, problems: list[Action]) -> list[Action]:
    """The day's longest queue, when it is ``QUEUE_FACTOR`` times its step's own normal and one of
    ``problems`` (RCA cases, repairs) is at that step."""
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
    causes = [a for a in problems if a.step == top["activity"]]
    if not causes:
        return []
    cause = "; ".join(dict.fromkeys(a.cause for a in causes))
    return [
        Action(
            what=f"Protect the bottleneck {top['activity']}: cases queue {wait / normal:.1f} times as long "
            f"as normal before it while it loses capacity to {cause}.",
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
    """Machines with a breakdown of the day longer than ``REPAIR_FACTOR`` times the MTTR target."""
    limit = REPAIR_FACTOR * (mttr_target_s or DEFAULT_MTTR_TARGET_S)
    intervals = "marts.fct_machine_state_intervals"
    needed = {"machine_id", "activity", "state", "start_ts", "end_ts", "production_date"}
    if not table_exists(source.conn, intervals) or needed - table_columns(source.conn, intervals):
        return []  # an older or partial mart: the breakdowns section says what is missing
    line = "any_value(line_id)" if "line_id" in table_columns(source.conn, intervals) else "null"
    found = rows(
        source.conn,
        f"""
        select machine_id, {line} as line_id, any_value(activity) as activity,
               count(*) as breakdowns, sum(epoch(end_ts) - epoch(start_ts)) as down_s,
               max(epoch(end_ts) - epoch(start_ts)) as longest_s,
               arg_max(start_ts, epoch(end_ts) - epoch(start_ts)) as since
        from {intervals} where production_date = $day and state = 'breakdown'
        group by machine_id having max(epoch(end_ts) - epoch(start_ts)) >= $limit
        order by longest_s desc, machine_id
        """,
        {"day": source.day, "limit": limit},  # type: ignore[arg-type]
    )
    return [
        Action(
            what=f"Get {machine['machine_id']} back and find why it failed: one breakdown lasted "
            f"{_minutes(machine['longest_s'])}.",
            where=" / ".join(
                str(p) for p in (machine["line_id"], machine["activity"], machine["machine_id"]) if p
            ),
            size=f"longest stop {_minutes(machine['longest_s'])}, over {REPAIR_FACTOR:g} x the MTTR target "
            f"of {_minutes(limit / REPAIR_FACTOR)}; down {_minutes(machine['down_s'])} in "
            f"{machine['breakdowns']} breakdowns",
            since=_local(machine["since"], source.timezone) or source.day.isoformat(),
            owner="maintenance",
            severity="critical",
            evidence="breakdowns",
            step=machine["activity"],
            cause=f"{machine['machine_id']} under repair",
        )
        for machine in found
    ]


def day_actions(source: DaySource, mttr_target_s: float | None) -> list[Action]:
    """Every action of the day, critical first (in rule order within a severity); cached per day."""
    key = "actions"
    if key not in source.cache:
        problems = [*machines_under_repair(source, mttr_target_s), *rca_cases_of_day(source)]
        found = [*blocked_data(source), *problems, *bottleneck_losing_capacity(source, problems)]
        source.cache[key] = sorted(found, key=lambda a: SEVERITIES.index(a.severity))
    return source.cache[key]


def role_actions(actions: list[Action], role: str) -> list[Action]:
    """The role's own actions first, then the others it should know of; at most ``MAX_ACTIONS``."""
    mine = [a for a in actions if a.owner == role]
    return (mine + [a for a in actions if a.owner != role])[:MAX_ACTIONS]
