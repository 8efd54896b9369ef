"""Facility KPIs of a day against their target and against the trailing 30 days, the largest deviations first.

One query per day builds every KPI for the 31 days ending with the day (a left join of each KPI's table on the
calendar), so a KPI whose table is missing is reported missing without hiding the others.

A KPI without a target is judged against the trailing days as an individuals chart: "worse" only beyond the
limit their own day-to-day spread sets (mean +- 3 x mean moving range / 1.128; a count's sigma never below
the Poisson sqrt(mean)), so an ordinary day of a healthy plant is "as usual" whichever way it moved. The
change shown is the real one, (value - reference) / |reference|: a count of a bad thing that rose is a
positive change called worse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from orchestration.reporting.queries import rows, table_columns, table_exists
from orchestration.reporting.roles import KpiTarget

TRAILING_DAYS = 30
MIN_TRAILING_DAYS = 5  # fewer trailing figures: too few to tell a change from day-to-day noise
SIGMAS = 3.0
D2 = 1.128  # expected moving range of two normal readings, in sigmas

# KPI -> (table, expression over that table's day row). Ratios come from the marts' own sums.
KPI_SOURCES: dict[str, tuple[str, str]] = {
    "oee": ("marts.fct_oee_factory_day", "oee"),
    "availability": ("marts.fct_oee_factory_day", "availability"),
    "effectiveness": ("marts.fct_oee_factory_day", "effectiveness"),
    "quality_ratio": ("marts.fct_oee_factory_day", "quality_ratio"),
    "first_pass_yield": ("marts.fct_oee_factory_day", "first_pass_yield"),
    "cells_completed": ("marts.fct_oee_factory_day", "cells_completed"),
    "scrap_ratio": ("marts.fct_oee_factory_day", "scrap_ratio"),
    "rework_ratio": ("marts.fct_oee_factory_day", "rework_ratio"),
    "breakdowns": ("marts.fct_oee_factory_day", "breakdown_count"),
    "mtbf": ("marts.fct_oee_factory_day", "mtbf_s"),
    "mttr": ("marts.fct_oee_factory_day", "mttr_s"),
    # signals a person acts on (one alarm per problem), not the detectors' events or the rules' firings
    "sensor_anomalies": ("analytics.alarms", "count(*) filter (where source = 'sensor')"),
    "spc_violations": ("analytics.alarms", "count(*) filter (where source = 'spc')"),
    "scrap_cost": ("marts.fct_economics_day", "scrap_cost"),
    "cost_per_good_cell": ("marts.fct_economics_day", "cost_per_good_cell"),
    "margin_ratio": ("marts.fct_economics_day", "margin_ratio"),
}
# Event tables have a row per event: a day without rows had none (0), not a missing figure.
COUNTED_TABLES = {"analytics.alarms"}
FACTORY_DAYS = "marts.fct_oee_factory_day"  # the days the factory has figures for


@dataclass(frozen=True)
class KpiStatus:
    kpi: KpiTarget
    value: float | None
    target: float | None
    trailing_mean: float | None  # mean of the TRAILING_DAYS days before the day that have a figure
    history: list[tuple[date, float | None]]  # the trailing days and the day, oldest first
    deviation: float | None  # relative to the target (else to the trailing mean); negative = worse
    # the trailing days' individuals-chart limits (low, high): day-to-day noise lies between them
    noise_limits: tuple[float, float] | None = None
    trailing_days: int = 0  # how many of the TRAILING_DAYS days before the day have a figure

    @property
    def reference(self) -> float | None:
        return self.target if self.target is not None else self.trailing_mean

    @property
    def change(self) -> float | None:
        """The real relative change against the reference, with its own sign (a rise is positive)."""
        if self.value is None or self.reference is None:
            return None
        if self.reference == 0:
            return 0.0 if self.value == 0 else math.copysign(1.0, self.value)
        return (self.value - self.reference) / abs(self.reference)

    @property
    def worse(self) -> bool:
        if self.deviation is None:
            return False
        if self.target is not None:
            return self.deviation < -0.005
        return self._beyond_noise() == "worse"

    @property
    def verdict(self) -> str:
        if self.deviation is None:
            return "no comparison"
        if self.target is not None:
            if self.worse:
                return "worse than target"
            return "better than target" if self.deviation > 0.005 else "on target"
        beyond = self._beyond_noise()
        if beyond is None:
            return f"no comparison (only {self.trailing_days} days before: too few to tell noise)"
        days = f"the {self.trailing_days} days before"
        return {"worse": f"worse than {days}", "better": f"better than {days}"}.get(
            beyond, "as usual (within day-to-day noise)"
        )

    @property
    def comparison(self) -> str | None:
        """The change in words, never a bare sign: "12.1% below target", "27.3% above the 6-day mean"."""
        change = self.change
        if change is None:
            return None
        reference = "target" if self.target is not None else f"the {self.trailing_days}-day mean"
        if abs(change) < 0.0005:
            return f"equal to {reference}"
        return f"{abs(change) * 100:.1f}% {'above' if change > 0 else 'below'} {reference}"

    def _beyond_noise(self) -> str | None:
        """'worse' or 'better' beyond the trailing days' limits, '' within them, None without limits."""
        if self.noise_limits is None or self.value is None:
            return None
        low, high = self.noise_limits
        if low <= self.value <= high:
            return ""
        rose = self.value > high
        return "worse" if rose == (self.kpi.better == "lower") else "better"


def noise_limits(trailing: list[float], count: bool) -> tuple[float, float] | None:
    """Individuals-chart limits of the trailing days (in day order), or None with too few of them."""
    if len(trailing) < MIN_TRAILING_DAYS:
        return None
    mean = sum(trailing) / len(trailing)
    mr_bar = sum(abs(b - a) for a, b in zip(trailing, trailing[1:], strict=False)) / (len(trailing) - 1)
    sigma = mr_bar / D2
    if count:  # events counted per day are at least Poisson-spread
        sigma = max(sigma, math.sqrt(max(mean, 0.0)))
    return mean - SIGMAS * sigma, mean + SIGMAS * sigma


def _deviation(value: float | None, reference: float | None, better: str) -> float | None:
    if value is None or reference is None:
        return None
    sign = 1.0 if better == "higher" else -1.0
    if reference == 0:
        return 0.0 if value == 0 else sign * (1.0 if value > 0 else -1.0)
    return sign * (value - reference) / abs(reference)


def kpi_history(conn, day: date, names: list[str], missing: list[str]) -> dict[str, dict[date, float | None]]:
    """KPI -> {day: value} for the TRAILING_DAYS days before ``day`` and ``day`` itself."""
    first = day - timedelta(days=TRAILING_DAYS)
    by_table: dict[str, list[str]] = {}
    for name in names:
        table, _ = KPI_SOURCES[name]
        by_table.setdefault(table, []).append(name)
    joins, selects = [], []
    for index, (table, kpis) in enumerate(sorted(by_table.items())):
        if not table_exists(conn, table):
            missing.append(f"KPIs {', '.join(kpis)}: table {table} not found")
            continue
        present = table_columns(conn, table)
        absent = [k for k in kpis if table not in COUNTED_TABLES and KPI_SOURCES[k][1] not in present]
        if absent:  # an older warehouse: the other KPIs of the table still count
            missing.append(f"KPIs {', '.join(absent)}: not in table {table}")
            kpis = [k for k in kpis if k not in absent]
            if not kpis:
                continue
        alias = f"t{index}"
        columns = ", ".join(f"{KPI_SOURCES[k][1]} as {k}" for k in kpis)
        joins.append(
            f"left join (select production_date, {columns} from {table} "
            f"where production_date between $first and $day group by all) {alias} "
            f"on {alias}.production_date = calendar.production_date"
            if table in COUNTED_TABLES
            else f"left join (select production_date, {columns} from {table} "
            f"where production_date between $first and $day) {alias} "
            f"on {alias}.production_date = calendar.production_date"
        )
        for kpi in kpis:
            # no event row on a day the factory has figures for: none happened (0), else not known
            counted = f"case when calendar.has_factory_day then coalesce({alias}.{kpi}, 0) end as {kpi}"
            selects.append(counted if table in COUNTED_TABLES else kpi)
    found: dict[str, dict[date, float | None]] = {name: {} for name in names}
    if not joins:
        return found
    has_factory_day = (
        f"production_date in (select production_date from {FACTORY_DAYS})"
        if table_exists(conn, FACTORY_DAYS)
        else "true"
    )
    sql = (
        f"select calendar.production_date, {', '.join(selects)} from "
        f"(select production_date, {has_factory_day} as has_factory_day from "
        "(select unnest(generate_series($first::date, $day::date, interval 1 day))::date "
        "as production_date)) "
        f"calendar {' '.join(joins)} order by 1"
    )
    for row in rows(conn, sql, {"first": first, "day": day}):  # type: ignore[arg-type]
        for name in names:
            if name in row:
                value = row[name]
                found[name][row["production_date"]] = None if value is None else float(value)
    return found


def kpi_board(conn, day: date, targets: list[KpiTarget], missing: list[str]) -> list[KpiStatus]:
    """The KPIs against target and trailing mean, the largest shortfall first (no comparison last)."""
    history = kpi_history(conn, day, [t.name for t in targets], missing)
    board = []
    for target in targets:
        series = history[target.name]
        days = [day - timedelta(days=n) for n in range(TRAILING_DAYS, -1, -1)]
        points = [(d, series.get(d)) for d in days]
        trailing = [v for d, v in points[:-1] if v is not None]
        value = series.get(day)
        trailing_mean = sum(trailing) / len(trailing) if trailing else None
        if value is None and series:
            missing.append(f"KPI {target.label}: no figure for {day.isoformat()}")
        reference = target.target if target.target is not None else trailing_mean
        board.append(
            KpiStatus(
                kpi=target,
                value=value,
                target=target.target,
                trailing_mean=trailing_mean,
                history=points,
                deviation=_deviation(value, reference, target.better),
                noise_limits=noise_limits(trailing, target.unit == "count"),
                trailing_days=len(trailing),
            )
        )
    return sorted(board, key=lambda s: (s.deviation is None, s.deviation or 0.0))
