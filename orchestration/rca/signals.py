"""Quality signals of a factory day: what crosses its threshold and so opens a root-cause case.

Four kinds, each judged against the trailing baseline (the ``baseline_days`` factory days before the day):

- ``rework``: a step's sent-back count (first passes whose check failed, of the decided first passes) beyond
  what its baseline rate explains, for the whole day or for one of its shifts (a bad shift is a third of the
  day's batches and is easily averaged away): an exact tail (beta-binomial, the baseline rate being an
  estimate), since a step sends back one or two batches a shift, where the normal approximation of the
  p-chart is far too narrow;
- ``scrap``: a step's daily scrap ratio above its individuals-chart limit (cells of one batch are scrapped
  together, so the XmR chart takes the day as the unit), with Student's t for a sigma estimated from a few
  days and never below the binomial spread of the day's cells;
- ``spc``: a characteristic's SPC alarms of the day (analytics.alarms, high or critical) holding at least
  ``spc_min_points`` batches out of control: one point or pair beyond the alarm limits is what the alarm
  budget allows by chance somewhere in the plant every few days, a case needs more than chance on one
  characteristic;
- ``recurring_defect``: a characteristic that is not the plant's usual top defect tops the defect Pareto
  ``recurring_days`` days running (some characteristic always tops it: that alone is no signal).

The thresholds of rework and scrap come from a false-signal budget per kind and day
(``false_signals_per_day``), shared by the day's tests of that kind: a plant with more steps or shifts tests
each a little more strictly, and a healthy plant opens about one false case in several months.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
from scipy import stats

from orchestration.anomalies.alarms import spc_characteristic
from orchestration.anomalies.spc import ALARM_RULES, MR_DEGREES_OF_FREEDOM

D2 = 1.128  # expected moving range of two normal readings, in sigmas


@dataclass(frozen=True)
class SignalRules:
    baseline_days: int = 28
    min_baseline_days: int = 3  # fewer days before the day: too little history to judge, no signal
    min_scrap_baseline_days: int = 5  # an individuals chart needs a few points for its moving range
    # False signals a healthy plant may raise per kind and day, shared by that day's tests of the kind
    false_signals_per_day: float = 0.005
    # Batches out of control on one characteristic in a day. SPC's alarm budget lets about 0.03 chance
    # points and 0.03 chance pairs a day through on a characteristic of ~90 batches; four points need two
    # chance events on one characteristic on one day (about 4e-4 a day, 3e-3 over nine characteristics).
    spc_min_points: int = 4
    recurring_days: int = 3
    usual_top_share: float = 0.5  # a defect topping this share of the baseline days is the usual leader


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


def sent_back_tail(count: int, n: int, base_sent: int, base_decided: int) -> float:
    """How often chance alone sends back ``count`` of ``n``, at a rate known only from the baseline.

    The beta-binomial predictive of Binomial(n, p) with p ~ Beta(sent + 1/2, decided - sent + 1/2) (Jeffreys):
    a baseline of a few days, or one that sent nothing back, is an uncertain rate, not a certain one.
    """
    return float(stats.betabinom.sf(count - 1, n, base_sent + 0.5, base_decided - base_sent + 0.5))


def critical_count(n: int, base_sent: int, base_decided: int, alpha: float) -> int:
    """The smallest count of n whose chance tail is at most alpha."""
    return int(stats.betabinom.isf(alpha, n, base_sent + 0.5, base_decided - base_sent + 0.5)) + 1


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
    tests = []  # (activity, baseline sent back and decided, baseline days, [(unit, sent back, decided)])
    for activity in sorted({g["activity"] for g in groups}):
        mine = [g for g in groups if g["activity"] == activity]
        before = [g for g in mine if g["production_date"] < day]
        today = [g for g in mine if g["production_date"] == day]
        base_sent, base_decided = sum(g["sent_back"] for g in before), sum(g["decided"] for g in before)
        baseline_days = len({g["production_date"] for g in before})
        if baseline_days < rules.min_baseline_days or not base_decided:
            continue
        # the day as a whole, then each shift of it
        units = [("the day", sum(g["sent_back"] for g in today), sum(g["decided"] for g in today))]
        units += [
            (g["shift_id"], g["sent_back"], g["decided"]) for g in sorted(today, key=lambda g: g["shift_id"])
        ]
        tests.append((activity, int(base_sent), int(base_decided), baseline_days, [u for u in units if u[2]]))
    alpha = rules.false_signals_per_day / max(1, sum(len(units) for *_, units in tests))
    signals = []
    for activity, base_sent, base_decided, baseline_days, units in tests:
        p_bar = base_sent / base_decided
        breaches = [
            {
                "unit": unit,
                "sent_back": int(sent),
                "decided": int(decided),
                "rate": sent / decided,
                "limit": critical_count(int(decided), base_sent, base_decided, alpha) / decided,
                "p_value": sent_back_tail(int(sent), int(decided), base_sent, base_decided),
            }
            for unit, sent, decided in units
            if sent and sent_back_tail(int(sent), int(decided), base_sent, base_decided) <= alpha
        ]
        if not breaches:
            continue
        worst = min(breaches, key=lambda b: b["p_value"])
        signals.append(
            Signal(
                kind="rework",
                production_date=day,
                activity=activity,
                value=worst["rate"],
                limit=worst["limit"],
                statement=(
                    f"{activity}: {worst['sent_back']} of {worst['decided']} first passes sent back to "
                    f"rework in {worst['unit']} ({worst['rate']:.1%}), at or above its limit "
                    f"{worst['limit']:.1%} (baseline {p_bar:.1%} over {baseline_days} days; by chance "
                    f"p = {worst['p_value']:.2g}, limit {alpha:.2g})"
                ),
                details={"baseline_rate": p_bar, "breaches": breaches, "alpha": alpha},
            )
        )
    return signals


def scrap_signals(conn, day: date, rules: SignalRules) -> list[Signal]:
    days = _rows(
        conn,
        """
        select production_date, activity, sum(scrap_cells) / nullif(sum(produced_cells), 0) as scrap_ratio,
               sum(scrap_cells) as scrap_cells, sum(produced_cells) as produced_cells,
               arg_max(machine_id, scrap_cells) as worst_machine
        from marts.fct_quality_yield
        where production_date between $day::date - $baseline and $day::date
        group by production_date, activity
        order by activity, production_date
        """,
        {"day": day, "baseline": rules.baseline_days},
    )
    tests = []  # (activity, baseline ratios, today's row)
    for activity in sorted({d["activity"] for d in days}):
        series = [d for d in days if d["activity"] == activity and d["scrap_ratio"] is not None]
        before = [d["scrap_ratio"] for d in series if d["production_date"] < day]
        today = next((d for d in series if d["production_date"] == day), None)
        if today is not None and len(before) >= rules.min_scrap_baseline_days:
            tests.append((activity, before, today))
    alpha = rules.false_signals_per_day / max(1, len(tests))
    signals = []
    for activity, before, today in tests:
        # sigma from the mean moving range of a few days is an estimate (about 0.62 (m - 1) degrees of
        # freedom): Student's t, not the normal, keeps a short baseline from crying wolf
        m = len(before)
        z = float(stats.t.isf(alpha, MR_DEGREES_OF_FREEDOM * (m - 1))) * math.sqrt(1 + 1 / m)
        center = sum(before) / len(before)
        mr_bar = sum(abs(b - a) for a, b in zip(before, before[1:], strict=False)) / (len(before) - 1)
        # never narrower than the binomial spread of the day's cells
        sigma = max(mr_bar / D2, math.sqrt(center * (1 - center) / today["produced_cells"]))
        limit = center + z * sigma
        if sigma == 0 or today["scrap_ratio"] <= limit:
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
                    f"above its individuals-chart limit {limit:.2%} at {z:.1f} sigma "
                    f"(baseline mean {center:.2%}, {len(before)} days)"
                ),
                details={"baseline_mean": center, "moving_range_mean": mr_bar, "sigmas": z},
            )
        )
    return signals


def spc_signals(conn, day: date, rules: SignalRules) -> list[Signal]:
    """A characteristic whose high or critical SPC alarms of the day hold ``spc_min_points`` batches out of
    control (each batch once, whatever the number of rules that fired on it)."""
    if not _table_exists(conn, "analytics", "alarms"):
        return []
    alarms = _rows(
        conn,
        """
        select subject, machine_id, priority, sentence, members from analytics.alarms
        where production_date = $day::date and source = 'spc' and priority in ('critical', 'high')
        order by case priority when 'critical' then 0 else 1 end, score desc, start_ts
        """,
        {"day": day},
    )
    activities = dict(
        conn.execute(
            "select characteristic, any_value(activity) from marts.fct_quality_measurements "
            "where production_date = $day::date group by characteristic",
            {"day": day},
        ).fetchall()
    )
    by_characteristic: dict[str, list[dict]] = {}
    for alarm in alarms:
        by_characteristic.setdefault(spc_characteristic(alarm["subject"]), []).append(alarm)
    signals = []
    for characteristic, mine in sorted(by_characteristic.items()):
        out = [  # (machine, batch) of every point an alarm rule fired on
            (alarm["machine_id"], member["measurement_id"])
            for alarm in mine
            for member in json.loads(alarm["members"])
            if set(member["rules"]) & set(ALARM_RULES)
        ]
        if len(out) < rules.spc_min_points:
            continue
        machines = Counter(machine for machine, _ in out)
        machine = machines.most_common(1)[0][0]
        priorities = Counter(alarm["priority"] for alarm in mine)
        activity = activities.get(characteristic)
        signals.append(
            Signal(
                kind="spc",
                production_date=day,
                activity=activity,
                characteristic=characteristic,
                machine_id=machine,
                value=float(len(out)),
                limit=float(rules.spc_min_points),
                statement=(
                    f"{characteristic} ({activity}): {len(out)} batches out of control in "
                    f"{len(mine)} SPC alarm{'s' if len(mine) > 1 else ''} "
                    f"({', '.join(f'{n} {p}' for p, n in sorted(priorities.items()))}) on "
                    f"{', '.join(sorted(machines))}, most on {machine}; first: {mine[0]['sentence']}"
                ),
                details={"alarms": [a["sentence"] for a in mine], "points_by_machine": dict(machines)},
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
        where pareto_rank = 1 and production_date between $first::date - $baseline and $day::date
        order by production_date
        """,
        {"first": first, "day": day, "baseline": rules.baseline_days},
    )
    run = [t for t in tops if t["production_date"] >= first]
    before = [(t["activity"], t["characteristic"]) for t in tops if t["production_date"] < first]
    if len(run) < rules.recurring_days or len({(t["activity"], t["characteristic"]) for t in run}) != 1:
        return []
    today = run[-1]
    leader = (today["activity"], today["characteristic"])
    # the plant's usual top defect tops the Pareto most days: a change is news, its usual state is not
    if len(before) < rules.min_baseline_days or before.count(leader) >= rules.usual_top_share * len(before):
        return []
    return [
        Signal(
            kind="recurring_defect",
            production_date=day,
            activity=today["activity"],
            characteristic=today["characteristic"],
            value=float(today["share_of_defects"]),
            statement=(
                f"{today['characteristic']} ({today['activity']}) is the top defect "
                f"{rules.recurring_days} days running ({first} to {day}), against "
                f"{before.count(leader)} of the {len(before)} days before; "
                f"today {today['batches_affected']} batches, "
                f"{today['share_of_defects']:.0%} of the day's defects"
            ),
            details={"days": [t["production_date"].isoformat() for t in run]},
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
