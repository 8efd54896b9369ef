"""Candidate factors of a signal, ranked by their statistical association with its outcome.

The unit is one first pass of the signal's step (a batch through that step, rework excluded) over the signal
day and its baseline window. Its outcome depends on the signal: sent back to rework (yes/no), its scrap
share, its distance from its product's baseline centre in that product's sigmas (SPC: products have their own
targets), or an out-of-spec sample (defect).

Each factor is tested against the outcome:
- a categorical factor level by level, the level against the rest, one-sided (does this level raise the
  outcome?): Fisher's exact test with the risk ratio for a yes/no outcome, Mann-Whitney U with the
  rank-biserial correlation for a measured one;
- a measured factor (ambient temperature, batch size) two-sided: Mann-Whitney U between the units with and
  without the outcome (rank-biserial) or Spearman's rho against a measured outcome.
All the tests of one case are corrected together with Holm's step-down method (family-wise error), and the
factors ranked by adjusted p-value, then raw p-value, then effect size.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import timedelta

import numpy as np
import pandas as pd
from scipy import stats

from orchestration.rca.signals import Signal

MIN_LEVEL_UNITS = 3  # a level seen on fewer units is not tested

# (factor, column, kind, Ishikawa category, how it reads)
FACTORS = (
    ("shift", "shift_id", "categorical", "Manpower", "the specific shift"),
    ("weekday_shift", "weekday_shift", "categorical", "Manpower", "the shift slot on that weekday"),
    ("shift_slot", "shift_name", "categorical", "Manpower", "early / late / night"),
    ("crew", "crew_id", "categorical", "Manpower", "the crew on shift"),
    ("machine", "machine_id", "categorical", "Machine", "the machine of the step"),
    ("product", "product_id", "categorical", "Material", "the cell type"),
    ("batch_size", "batch_size_cells", "measured", "Method", "cells entering the route"),
    ("ambient_temperature", "ambient_temperature_c", "measured", "Environment", "room temperature, degC"),
)
NOT_RECORDED = {
    "material_lot": ("Material", "no material lot is recorded in the MES data (the simulator has none)"),
    "gauge": ("Measurement", "the measuring gauge is not recorded apart from the machine"),
}


@dataclass(frozen=True)
class FactorResult:
    factor: str
    level: str | None  # the level tested against the rest; None for a measured factor
    category: str  # Ishikawa 6M
    test: str
    effect_name: str
    effect: float | None
    p_value: float
    p_adjusted: float = 1.0
    units: int = 0  # units in the level (or with the factor measured)
    outcome_in_level: float | None = None  # outcome rate / mean in the level
    outcome_elsewhere: float | None = None

    @property
    def label(self) -> str:
        return f"{self.factor} = {self.level}" if self.level is not None else self.factor

    def as_dict(self) -> dict:
        return {**asdict(self), "label": self.label}


def analysis_units(conn, signal: Signal, baseline_days: int) -> pd.DataFrame:
    """One row per first pass of the signal's step over the window, with its factors and its outcome."""
    first = signal.production_date - timedelta(days=baseline_days)
    units = conn.execute(
        """
        with events as (
            select *, lead(is_rework) over (partition by case_id order by start_ts, end_ts) as next_is_rework
            from marts.fct_process_events
            where production_date between $first::date - 1 and $day::date + 1
        ),
        passes as (
            select * from events
            where activity = $activity and not is_rework and production_date between $first and $day
        )
        select passes.event_id, passes.case_id, passes.production_date, passes.start_ts, passes.end_ts,
               passes.production_date = $day::date as on_signal_day,
               passes.shift_id, shifts.shift_name, shifts.crew_id,
               dayname(passes.production_date) || ' ' || shifts.shift_name as weekday_shift,
               passes.machine_id, passes.product_id, batches.batch_size_cells,
               rooms.mean_value as ambient_temperature_c,
               passes.next_is_rework as sent_back,
               passes.scrap_qty / nullif(passes.produced_qty, 0) as scrap_share
        from passes
        left join marts.dim_shift as shifts using (shift_id)
        left join marts.dim_batch as batches using (case_id)
        left join marts.dim_machine as machines using (machine_id)
        left join marts.fct_sensor_hourly as rooms
          on  rooms.sensor_id = machines.room_id || '.ambient_temperature' and rooms.measure = 'temperature'
          and rooms.hour = timezone('UTC', date_trunc('hour', timezone('UTC', passes.start_ts)))
        order by passes.start_ts, passes.event_id
        """,
        {"first": first, "day": signal.production_date, "activity": signal.activity},
    ).df()
    if signal.characteristic is not None:
        measured = conn.execute(
            """
            select passes.event_id, avg(m.measured_value) as measured_mean,
                   bool_or(not m.in_spec) as out_of_spec
            from marts.fct_process_events as passes
            join marts.fct_quality_measurements as m
              on  m.case_id = passes.case_id and m.activity = passes.activity
              and m.measured_ts between passes.start_ts and passes.end_ts
            where passes.activity = $activity and not passes.is_rework
              and passes.production_date between $first and $day and m.characteristic = $characteristic
            group by passes.event_id
            """,
            {
                "first": first,
                "day": signal.production_date,
                "activity": signal.activity,
                "characteristic": signal.characteristic,
            },
        ).df()
        units = units.merge(measured, on="event_id", how="left")
    units["outcome"] = outcome_of(signal, units)
    return units[units["outcome"].notna()].reset_index(drop=True)


def outcome_of(signal: Signal, units: pd.DataFrame) -> pd.Series:
    """The per-unit outcome the factors are tested against (NaN: undecided, left out)."""
    if signal.kind == "rework":
        return units["sent_back"].astype("float")  # null while the batch has not moved on
    if signal.kind == "scrap":
        return units["scrap_share"].astype("float")
    if signal.kind == "recurring_defect":
        return units["out_of_spec"].astype("float")
    return product_residual(units).abs()


def product_residual(units: pd.DataFrame) -> pd.Series:
    """(pass mean - its product's baseline centre) / its product's baseline sigma.

    Products have their own targets: pooled, the distance from one centre would rank the product first on
    any characteristic whose targets differ. The centre is the median and the sigma the MAD of the product's
    baseline passes (the days before the signal day; all of the product's passes when it has none), robust to
    the few batches a fault sends far out.
    """
    product = units["product_id"].astype("string").fillna("")
    before = ~units["on_signal_day"].astype(bool)
    has_baseline = before.groupby(product).transform("any")
    reference = units["measured_mean"].where(before | ~has_baseline)
    centre = reference.groupby(product).transform("median")
    mad = (reference - centre).abs().groupby(product).transform("median") * 1.4826
    return (units["measured_mean"] - centre) / mad.where(mad > 0)


def _is_binary(outcome: pd.Series) -> bool:
    return bool(outcome.isin([0.0, 1.0]).all())


def _rank_biserial(u: float, n1: int, n2: int) -> float:
    return 2.0 * u / (n1 * n2) - 1.0


def _level_tests(name, column, category, units, binary) -> list[FactorResult]:
    values = units[column].astype("string")
    levels = values.dropna().unique()
    if len(levels) < 2:
        return []
    results = []
    for level in sorted(levels):
        inside = (values == level).fillna(False).to_numpy()
        y_in, y_out = units["outcome"][inside], units["outcome"][~inside]
        if len(y_in) < MIN_LEVEL_UNITS or len(y_out) < MIN_LEVEL_UNITS:
            continue
        if binary:
            a, b = int(y_in.sum()), int(len(y_in) - y_in.sum())
            c, d = int(y_out.sum()), int(len(y_out) - y_out.sum())
            if a == 0:
                continue  # no outcome in this level: it cannot be a cause
            p = stats.fisher_exact([[a, b], [c, d]], alternative="greater").pvalue
            # risk ratio, with Haldane's 0.5 when nothing happened elsewhere
            risk_in, risk_out = a / (a + b), (c if c else 0.5) / (c + d + (0 if c else 0.5))
            results.append(
                FactorResult(
                    name,
                    str(level),
                    category,
                    "Fisher exact (one-sided)",
                    "risk ratio",
                    risk_in / risk_out,
                    float(p),
                    units=len(y_in),
                    outcome_in_level=a / (a + b),
                    outcome_elsewhere=c / (c + d),
                )
            )
        else:
            if y_in.nunique() + y_out.nunique() <= 2 and y_in.iloc[0] == y_out.iloc[0]:
                continue
            test = stats.mannwhitneyu(y_in, y_out, alternative="greater")
            results.append(
                FactorResult(
                    name,
                    str(level),
                    category,
                    "Mann-Whitney U (one-sided)",
                    "rank-biserial r",
                    _rank_biserial(test.statistic, len(y_in), len(y_out)),
                    float(test.pvalue),
                    units=len(y_in),
                    outcome_in_level=float(y_in.mean()),
                    outcome_elsewhere=float(y_out.mean()),
                )
            )
    return results


def _measured_test(name, column, category, units, binary) -> list[FactorResult]:
    known = units[units[column].notna()]
    x, y = known[column].astype("float"), known["outcome"]
    if len(known) < 2 * MIN_LEVEL_UNITS or x.nunique() < 2 or y.nunique() < 2:
        return []
    if binary:
        with_outcome, without = x[y == 1.0], x[y == 0.0]
        if len(with_outcome) < MIN_LEVEL_UNITS:
            return []
        test = stats.mannwhitneyu(with_outcome, without, alternative="two-sided")
        return [
            FactorResult(
                name,
                None,
                category,
                "Mann-Whitney U (two-sided)",
                "rank-biserial r",
                _rank_biserial(test.statistic, len(with_outcome), len(without)),
                float(test.pvalue),
                units=len(known),
                outcome_in_level=float(with_outcome.mean()),
                outcome_elsewhere=float(without.mean()),
            )
        ]
    test = stats.spearmanr(x, y)
    return [
        FactorResult(
            name,
            None,
            category,
            "Spearman (two-sided)",
            "Spearman rho",
            float(test.statistic),
            float(test.pvalue),
            units=len(known),
        )
    ]


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order."""
    m = len(p_values)
    order = np.argsort(p_values, kind="stable")
    adjusted, running = [1.0] * m, 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def rank_factors(units: pd.DataFrame) -> list[FactorResult]:
    """Every factor's tests on the units, Holm-corrected together, the strongest association first."""
    if units.empty or units["outcome"].nunique() < 2:
        return []
    binary = _is_binary(units["outcome"])
    results: list[FactorResult] = []
    for name, column, kind, category, _ in FACTORS:
        if column not in units or units[column].isna().all():
            continue
        test = _level_tests if kind == "categorical" else _measured_test
        results.extend(test(name, column, category, units, binary))
    adjusted = holm([r.p_value for r in results])
    results = [FactorResult(**{**asdict(r), "p_adjusted": a}) for r, a in zip(results, adjusted, strict=True)]
    effect = lambda r: abs(math.log(r.effect)) if r.effect_name == "risk ratio" else abs(r.effect or 0)  # noqa: E731
    return sorted(results, key=lambda r: (r.p_adjusted, r.p_value, -effect(r)))


def candidate_factors(conn, signal: Signal, baseline_days: int) -> tuple[list[FactorResult], int]:
    """(ranked factors, units analysed) of a signal."""
    units = analysis_units(conn, signal, baseline_days)
    return rank_factors(units), len(units)
