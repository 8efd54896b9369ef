"""Quality signals of a factory day: what crosses its threshold and so opens a root-cause case.

Four kinds, each judged against the trailing baseline (the ``baseline_days`` factory days before the day):

- ``rework``: a step's sent-back rate (first passes whose check failed, of the decided first passes) above
  its p-chart limit, p-bar + 3 sqrt(p-bar (1 - p-bar) / n), for the whole day or for one of its shifts (a bad
  shift is a third of the day's batches and is easily averaged away);
- ``scrap``: a step's daily scrap ratio above its individuals-chart limit (cells of one batch are scrapped
  together, so a binomial limit on cells would be far too narrow; the XmR chart takes the day as the unit);
- ``spc``: more Western Electric / Nelson rule firings on a characteristic (analytics.spc_violations) than
  the individuals-chart limit of its daily counts;
- ``recurring_defect``: the same characteristic tops the defect Pareto ``recurring_days`` days running.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb

D2 = 1.128  # expected moving range of two normal readings, in sigmas


@dataclass(frozen=True)
class SignalRules:
    baseline_days: int = 28
    min_baseline_days: int = 3  # fewer days before the day: too little history to judge, no signal
    min_scrap_baseline_days: int = 5  # an individuals chart needs a few points for its moving range
    sigmas: float = 3.0
    spc_min_violations: int = 3  # rule firings of one characteristic in a day; single firings are noise
    recurring_days: int = 3


@dataclass(frozen=True)
class Signal:
    kind: str  # rework | scrap | spc | recurring_defect
    production_date: date
    activity: str
    statement: str  # one sentence a quality engineer reads first
    value: float | None = None  # the rate or count that crossed the limit
    limit: float | None = None
    characteristic: str | None = None
    machine_id: str | None = None  # the machine most involved, when the signal points at one
    details: dict = field(default_factory=dict)


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, params: dict) -> list[dict]:
    cursor = conn.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _table_exists(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        conn.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def p_chart_limit(p_bar: float, n: int, sigmas: float = 3.0) -> float:
    return p_bar + sigmas * math.sqrt(p_bar * (1 - p_bar) / n)


def rework_signals(conn, day: date, rules: SignalRules) -> list[Signal]:
    groups = _rows(
        conn,
        """
        select production_date, shift_id, any_value(shift_name) as shift_name, activity,
               sum(sent_back_count) as sent_back, sum(first_pass_count - pending_count) as decided
        from marts.fct_quality_yield
        where production_date between $day::date - $baseline and $day::date
        group by all
        """,
        {"day": day, "baseline": rules.baseline_days},
    )
    signals = []
    for activity in sorted({g["activity"] for g in groups}):
        mine = [g for g in groups if g["activity"] == activity]
        before = [g for g in mine if g["production_date"] < day]
        today = [g for g in mine if g["production_date"] == day]
        base_sent, base_decided = sum(g["sent_back"] for g in before), sum(g["decided"] for g in before)
        if len({g["production_date"] for g in before}) < rules.min_baseline_days or not base_decided:
            continue
        p_bar = base_sent / base_decided
        # the day as a whole, then each shift of it
        units = [("the day", sum(g["sent_back"] for g in today), sum(g["decided"] for g in today))]
        units += [
            (g["shift_id"], g["sent_back"], g["decided"]) for g in sorted(today, key=lambda g: g["shift_id"])
        ]
        breaches = []
        for unit, sent, decided in units:
            if decided and sent / decided > p_chart_limit(p_bar, decided, rules.sigmas):
                breaches.append(
                    {
                        "unit": unit,
                        "sent_back": int(sent),
                        "decided": int(decided),
                        "rate": sent / decided,
                        "limit": p_chart_limit(p_bar, decided, rules.sigmas),
                    }
                )
        if not breaches:
            continue
        worst = max(breaches, key=lambda b: b["rate"] - b["limit"])
        signals.append(
            Signal(
                kind="rework",
                production_date=day,
                activity=activity,
                value=worst["rate"],
                limit=worst["limit"],
                statement=(
                    f"{activity}: {worst['sent_back']} of {worst['decided']} first passes sent back to "
                    f"rework in {worst['unit']} ({worst['rate']:.1%}), "
                    f"above the p-chart limit {worst['limit']:.1%} "
                    f"(baseline {p_bar:.1%} over {len({g['production_date'] for g in before})} days)"
                ),
                details={"baseline_rate": p_bar, "breaches": breaches},
            )
        )
    return signals


def scrap_signals(conn, day: date, rules: SignalRules) -> list[Signal]:
    days = _rows(
        conn,
        """
        select production_date, activity, sum(scrap_cells) / nullif(sum(produced_cells), 0) as scrap_ratio,
               sum(scrap_cells) as scrap_cells, arg_max(machine_id, scrap_cells) as worst_machine
        from marts.fct_quality_yield
        where production_date between $day::date - $baseline and $day::date
        group by production_date, activity
        order by activity, production_date
        """,
        {"day": day, "baseline": rules.baseline_days},
    )
    signals = []
    for activity in sorted({d["activity"] for d in days}):
        series = [d for d in days if d["activity"] == activity and d["scrap_ratio"] is not None]
        before = [d["scrap_ratio"] for d in series if d["production_date"] < day]
        today = next((d for d in series if d["production_date"] == day), None)
        if today is None or len(before) < rules.min_scrap_baseline_days:
            continue
        center = sum(before) / len(before)
        mr_bar = sum(abs(b - a) for a, b in zip(before, before[1:], strict=False)) / (len(before) - 1)
        limit = center + rules.sigmas * mr_bar / D2
        if mr_bar == 0 or today["scrap_ratio"] <= limit:
            continue
        signals.append(
            Signal(
                kind="scrap",
                production_date=day,
                activity=activity,
                value=today["scrap_ratio"],
                limit=limit,
                machine_id=today["worst_machine"],
                statement=(
                    f"{activity}: scrap ratio {today['scrap_ratio']:.2%} ({today['scrap_cells']} cells), "
                    f"above its individuals-chart limit {limit:.2%} "
                    f"(baseline mean {center:.2%}, {len(before)} days)"
                ),
                details={"baseline_mean": center, "moving_range_mean": mr_bar},
            )
        )
    return signals


def spc_signals(conn, day: date, rules: SignalRules) -> list[Signal]:
    """A characteristic whose rule firings today exceed the individuals-chart limit of its daily counts.

    Rules fire every day on a healthy plant (batch-to-batch variation, product mix), so a count threshold
    would open a case a day per characteristic; what is unusual is more firings than its own history.
    """
    if not _table_exists(conn, "analytics", "spc_violations"):
        return []
    counts = _rows(
        conn,
        """
        with days as (
            select distinct production_date from marts.fct_quality_measurements
            where production_date between $day::date - $baseline and $day::date
        ),
        characteristics as (
            select characteristic, any_value(activity) as activity from marts.fct_quality_measurements
            where production_date between $day::date - $baseline and $day::date
            group by characteristic
        ),
        fired as (
            select production_date, characteristic, count(*) as violations, mode(machine_id) as machine_id,
                   count(distinct machine_id) as machines, list(distinct rule order by rule) as rules
            from analytics.spc_violations
            where production_date between $day::date - $baseline and $day::date
            group by all
        )
        select days.production_date, characteristics.characteristic, characteristics.activity,
               coalesce(fired.violations, 0) as violations, fired.machine_id, fired.machines, fired.rules
        from days cross join characteristics
        left join fired using (production_date, characteristic)
        order by characteristics.characteristic, days.production_date
        """,
        {"day": day, "baseline": rules.baseline_days},
    )
    signals = []
    for characteristic in sorted({c["characteristic"] for c in counts}):
        series = [c for c in counts if c["characteristic"] == characteristic]
        before = [c["violations"] for c in series if c["production_date"] < day]
        today = next((c for c in series if c["production_date"] == day), None)
        if today is None or len(before) < rules.min_baseline_days:
            continue
        center = sum(before) / len(before)
        mr_bar = sum(abs(b - a) for a, b in zip(before, before[1:], strict=False)) / (len(before) - 1)
        limit = center + rules.sigmas * mr_bar / D2
        if today["violations"] <= max(limit, rules.spc_min_violations - 1):
            continue
        signals.append(
            Signal(
                kind="spc",
                production_date=day,
                activity=today["activity"],
                characteristic=characteristic,
                machine_id=today["machine_id"],
                value=float(today["violations"]),
                limit=limit,
                statement=(
                    f"{characteristic} ({today['activity']}): {today['violations']} SPC rule firings "
                    f"({', '.join(today['rules'])}) on {today['machines']} machine(s), most on "
                    f"{today['machine_id']}; above the limit {limit:.0f} of its daily counts "
                    f"(baseline mean {center:.0f} over {len(before)} days)"
                ),
                details={"rules": list(today["rules"]), "baseline_mean": center},
            )
        )
    return signals


def recurring_defect_signals(conn, day: date, rules: SignalRules) -> list[Signal]:
    first = day - timedelta(days=rules.recurring_days - 1)
    tops = _rows(
        conn,
        """
        select production_date, activity, characteristic, batches_affected, share_of_defects
        from marts.fct_defect_pareto
        where pareto_rank = 1 and production_date between $first and $day::date
        order by production_date
        """,
        {"first": first, "day": day},
    )
    if len(tops) < rules.recurring_days or len({(t["activity"], t["characteristic"]) for t in tops}) != 1:
        return []
    today = tops[-1]
    return [
        Signal(
            kind="recurring_defect",
            production_date=day,
            activity=today["activity"],
            characteristic=today["characteristic"],
            value=float(today["share_of_defects"]),
            statement=(
                f"{today['characteristic']} ({today['activity']}) is the top defect "
                f"{rules.recurring_days} days running ({first} to {day}); "
                f"today {today['batches_affected']} batches, "
                f"{today['share_of_defects']:.0%} of the day's defects"
            ),
            details={"days": [t["production_date"].isoformat() for t in tops]},
        )
    ]


def detect_signals(conn, day: date, rules: SignalRules | None = None) -> list[Signal]:
    """Every signal of factory day ``day`` (warehouse connection, read-only is enough)."""
    rules = rules or SignalRules()
    return [
        *rework_signals(conn, day, rules),
        *scrap_signals(conn, day, rules),
        *spc_signals(conn, day, rules),
        *recurring_defect_signals(conn, day, rules),
    ]
