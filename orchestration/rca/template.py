"""The investigation template of a case: 5 Whys and an Ishikawa (6M) diagram, pre-filled from the analysis.

The first why is the signal, the second the strongest candidate factor; the team writes the rest. Each 6M bone
lists the candidate factors of its category with their effect and Holm-adjusted p-value, strongest first, and
says what the data cannot tell (no material lot in the MES data, no separate gauge record).
"""

from __future__ import annotations

from orchestration.rca.factors import FACTORS, NOT_RECORDED, FactorResult
from orchestration.rca.signals import Signal

CATEGORIES = ("Manpower", "Machine", "Material", "Method", "Measurement", "Environment")
SIGNIFICANCE = 0.05
PER_BONE = 5


def describe(result: FactorResult) -> str:
    where = ""
    if result.outcome_in_level is not None and result.outcome_elsewhere is not None:
        where = f"; outcome {result.outcome_in_level:.3g} vs {result.outcome_elsewhere:.3g} elsewhere"
    verdict = "significant" if result.p_adjusted < SIGNIFICANCE else "not significant"
    return (
        f"{result.label}: {result.effect_name} {result.effect:.3g}, p = {result.p_value:.2g} "
        f"(Holm {result.p_adjusted:.2g}, {verdict}) over {result.units} units{where}"
    )


def build_template(signal: Signal, factors: list[FactorResult]) -> dict:
    top = factors[0] if factors else None
    whys = [{"why": 1, "answer": signal.statement, "source": "signal"}]
    whys.append(
        {
            "why": 2,
            "answer": f"Strongest association: {describe(top)}" if top else None,
            "source": "candidate factors" if top else None,
        }
    )
    whys += [{"why": n, "answer": None, "source": None} for n in range(3, 6)]
    bones = {category: {"candidates": [], "not_analysed": []} for category in CATEGORIES}
    for result in factors:
        if len(bones[result.category]["candidates"]) < PER_BONE:
            bones[result.category]["candidates"].append(describe(result))
    tested = {r.factor for r in factors}
    for name, _, _, category, reading in FACTORS:
        if name not in tested:
            bones[category]["not_analysed"].append(f"{name} ({reading}): no data or no variation")
    for name, (category, reason) in NOT_RECORDED.items():
        bones[category]["not_analysed"].append(f"{name}: {reason}")
    return {
        "problem": signal.statement,
        "five_whys": whys,
        "ishikawa": bones,
        "method": (
            "Units: first passes of the step over the signal day and its baseline window. Levels of a "
            "factor against the rest (Fisher exact with risk ratio for a yes/no outcome, Mann-Whitney U with "
            "rank-biserial r for a measured one); measured factors by Mann-Whitney U or Spearman's rho. "
            "All tests of the case Holm-corrected together."
        ),
    }
