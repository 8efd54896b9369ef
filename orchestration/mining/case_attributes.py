"""Which batch attributes go with long throughput times and with rework: rank tests with effect sizes.

Numeric attributes (batch size, the ambient temperature of the batch's ambient-sensitive step) get Spearman's
rank correlation; categorical ones (product, entry shift, its slot, entry crew) Kruskal-Wallis with epsilon
squared, or Mann-Whitney with the rank-biserial correlation when there are two groups. Every p-value of the
window is adjusted together (Benjamini-Hochberg), so a dozen tests do not find an effect by chance; a summary
row says in words what is significant, or that nothing is. Attributes the source does not record (material
lots: the simulated plant has none) get a row saying so instead of a silent gap.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from orchestration.factory_calendar import as_date

NUMERIC_ATTRIBUTES = ("batch_size_cells", "ambient_step_temperature_c")
CATEGORICAL_ATTRIBUTES = ("product_id", "entry_shift_id", "entry_shift_name", "entry_crew_id")
NOT_RECORDED = {"material_lot_id": "material lot"}
# Outcome -> what it means; throughput only counts complete batches (null while in progress).
OUTCOMES = {
    "throughput_time_s": "throughput time",
    "rework_step_count": "rework steps",
}
ALPHA = 0.05
MIN_CASES = 10  # fewer batches than this: no test
MIN_GROUP_CASES = 3  # smaller groups of a categorical attribute are left out of its test
SUMMARY = "(all attributes)"
COLUMNS = [
    "attribute",
    "kind",
    "outcome",
    "test",
    "cases",
    "groups",
    "statistic",
    "effect_size",
    "effect_measure",
    "p_value",
    "p_adjusted",
    "significant",
    "finding",
]


def window_batches_sql(first_day: date | str, last_day: date | str) -> str:
    """The batches released in the window from marts.dim_batch, with the slot (early/late/night) of the shift
    they entered in, as they stood at the window's end. dim_batch holds each batch as the latest run left it,
    so a window mined after later days were loaded would see completions, rework and coating temperatures
    from after it: the outcomes and the ambient step count only when the mart has their events by the
    window's last day, so the window's effects are the same whenever it is mined."""
    first, last = as_date(first_day).isoformat(), as_date(last_day).isoformat()
    return f"""
        with released as (
            select * from marts.dim_batch where release_date between date '{first}' and date '{last}'
        ),
        known as (
            select released.case_id,
                   count(*) filter (where events.is_rework) as rework_step_count,
                   bool_or(events.end_ts = released.completed_ts) as completed,
                   bool_or(events.machine_id = released.ambient_step_machine_id) as ambient_step_done
            from released
            join marts.fct_process_events as events
                on events.case_id = released.case_id and events.production_date <= date '{last}'
            group by released.case_id
        )
        select released.* replace (
                   coalesce(known.rework_step_count, 0)::bigint as rework_step_count,
                   coalesce(known.completed, false) as is_completed,
                   case when known.completed then released.throughput_time_s end as throughput_time_s,
                   case when known.ambient_step_done then released.ambient_step_temperature_c end
                       as ambient_step_temperature_c
               ),
               shifts.shift_name as entry_shift_name
        from released
        left join known on known.case_id = released.case_id
        left join marts.dim_shift as shifts on shifts.shift_id = released.entry_shift_id
    """


def _row(attribute, kind, outcome, test, cases, finding, **figures) -> dict:
    return {
        "attribute": attribute,
        "kind": kind,
        "outcome": outcome,
        "test": test,
        "cases": cases,
        "finding": finding,
        **figures,
    }


def _numeric(values: pd.Series, outcome: pd.Series, attribute: str, name: str) -> dict:
    from scipy import stats

    paired = pd.DataFrame({"x": values, "y": outcome}).dropna()
    n = len(paired)
    if n < MIN_CASES or paired["x"].nunique() < 2 or paired["y"].nunique() < 2:
        why = f"{n} batches with both values" if n < MIN_CASES else "one value only"
        return _row(attribute, "numeric", name, "not_testable", n, f"not tested: {why}")
    rho, p = stats.spearmanr(paired["x"], paired["y"])
    direction = "more" if rho > 0 else "less"
    return _row(
        attribute,
        "numeric",
        name,
        "spearman",
        n,
        f"the higher the {attribute}, the {direction} {OUTCOMES[name]} (rho {rho:+.2f})",
        groups=None,
        statistic=float(rho),
        effect_size=float(rho),
        effect_measure="spearman_rho",
        p_value=float(p),
    )


def _categorical(values: pd.Series, outcome: pd.Series, attribute: str, name: str) -> dict:
    from scipy import stats

    paired = pd.DataFrame({"group": values.astype("string"), "y": outcome}).dropna()
    sizes = paired["group"].value_counts()
    paired = paired[paired["group"].isin(sizes[sizes >= MIN_GROUP_CASES].index)]
    n, groups = len(paired), paired["group"].nunique()
    if n < MIN_CASES or groups < 2 or paired["y"].nunique() < 2:
        why = (
            f"{n} batches with both values"
            if n < MIN_CASES
            else f"{groups} group(s) of at least {MIN_GROUP_CASES} batches"
            if groups < 2
            else "the outcome has one value only"
        )
        return _row(attribute, "categorical", name, "not_testable", n, f"not tested: {why}", groups=groups)
    samples = {g: s["y"].to_numpy() for g, s in paired.groupby("group", sort=True)}
    means = paired.groupby("group")["y"].mean()
    highest = means.idxmax()
    finding = (
        f"most {OUTCOMES[name]} in {attribute} {highest}: mean {means[highest]:.3g} "
        f"vs {paired['y'].mean():.3g} over all {n} batches"
    )
    if groups == 2:
        first, second = samples.values()
        u, p = stats.mannwhitneyu(first, second, alternative="two-sided")
        # rank-biserial correlation: the share of pairs the first group wins minus the share it loses
        effect = 2.0 * u / (len(first) * len(second)) - 1.0
        test, statistic, measure = "mann_whitney", float(u), "rank_biserial"
    else:
        h, p = stats.kruskal(*samples.values())
        effect = h / (n - 1)  # epsilon squared (Tomczak & Tomczak 2014)
        test, statistic, measure = "kruskal_wallis", float(h), "epsilon_squared"
    return _row(
        attribute,
        "categorical",
        name,
        test,
        n,
        finding,
        groups=groups,
        statistic=statistic,
        effect_size=float(effect),
        effect_measure=measure,
        p_value=float(p),
    )


def attribute_effects(batches: pd.DataFrame, alpha: float = ALPHA) -> pd.DataFrame:
    """One row per attribute and outcome (test, effect size, raw and adjusted p-value, finding), rows for
    attributes not recorded, and a summary row. ``batches``: one row per batch with any of the attribute
    columns and the outcome columns."""
    from scipy import stats

    rows = []
    for name in OUTCOMES:
        outcome = batches[name] if name in batches else pd.Series(np.nan, index=batches.index)
        outcome = pd.to_numeric(outcome, errors="coerce")
        for attribute in NUMERIC_ATTRIBUTES:
            if attribute in batches:
                values = pd.to_numeric(batches[attribute], errors="coerce")
                rows.append(_numeric(values, outcome, attribute, name))
        for attribute in CATEGORICAL_ATTRIBUTES:
            if attribute in batches:
                rows.append(_categorical(batches[attribute], outcome, attribute, name))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    tested = frame["p_value"].notna()
    frame["p_adjusted"] = np.nan
    if tested.any():
        frame.loc[tested, "p_adjusted"] = stats.false_discovery_control(
            frame.loc[tested, "p_value"].to_numpy(dtype=float), method="bh"
        )
    frame["significant"] = frame["p_adjusted"] < alpha
    frame = frame.sort_values(["significant", "p_adjusted"], ascending=[False, True], na_position="last")

    missing = [
        _row(column, None, None, "not_recorded", 0, f"no {label} recorded by the source: not tested")
        for column, label in NOT_RECORDED.items()
        if column not in batches
    ]
    significant = frame[frame["significant"]]
    summary = (
        f"nothing significant: no attribute goes with throughput time or rework at alpha {alpha:g} "
        f"after Benjamini-Hochberg over {int(tested.sum())} tests of {len(batches)} batches"
        if significant.empty
        else f"{len(significant)} of {int(tested.sum())} tests significant at alpha {alpha:g} "
        f"(Benjamini-Hochberg): "
        + "; ".join(
            f"{a} -> {OUTCOMES[o]}" for a, o in zip(significant.attribute, significant.outcome, strict=True)
        )
    )
    head = _row(SUMMARY, None, None, "summary", len(batches), summary, significant=not significant.empty)
    out = pd.concat(
        [pd.DataFrame([head], columns=COLUMNS), frame, pd.DataFrame(missing, columns=COLUMNS)],
        ignore_index=True,
    )
    return _typed(out)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Fixed column types, so the window table created from any first window takes every later one."""
    text = ("attribute", "kind", "outcome", "test", "effect_measure", "finding")
    return frame.astype(
        {
            **{column: "string" for column in text},
            "cases": "Int64",
            "groups": "Int64",
            **{column: "float64" for column in ("statistic", "effect_size", "p_value", "p_adjusted")},
            "significant": "boolean",
        }
    )[COLUMNS]


def case_attribute_effects(conn, batches: str | None, alpha: float = ALPHA) -> pd.DataFrame:
    """The effects of the batches in relation ``batches`` (None: no batch attributes in this warehouse)."""
    if batches is None:
        note = "no batch attributes (marts.dim_batch) in this warehouse: not tested"
        return _typed(pd.DataFrame([_row(SUMMARY, None, None, "summary", 0, note)], columns=COLUMNS))
    return attribute_effects(conn.execute(f"select * from {batches}").df(), alpha)
