"""Open (or refresh) the RCA cases of a factory day: signals from the warehouse, cases in the state file.

The warehouse is only read; all analysis happens before the state file is opened, so its write connection
lasts milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from orchestration.rca.factors import candidate_factors
from orchestration.rca.signals import SignalRules, detect_signals
from orchestration.rca.store import case_id_of, state_connection, upsert_case
from orchestration.rca.template import build_template

RECURRING_WITHIN_DAYS = 14  # a case of the same kind on the same step within this many days: a recurrence


@dataclass(frozen=True)
class OpenedCases:
    day: date
    case_ids: list[str]
    new_case_ids: list[str]


def analyse_day(warehouse_conn, day: date, rules: SignalRules | None = None) -> list[dict]:
    """The cases the day's signals call for, analysed (no state touched)."""
    rules = rules or SignalRules()
    cases = []
    for signal in detect_signals(warehouse_conn, day, rules):
        factors, units = candidate_factors(warehouse_conn, signal, rules.baseline_days)
        top = factors[0] if factors else None
        cases.append(
            {
                "case_id": case_id_of(day, signal.kind, signal.activity, signal.characteristic),
                "production_date": day,
                "signal_kind": signal.kind,
                "signal": signal.statement,
                "activity": signal.activity,
                "machine_id": signal.machine_id,
                "characteristic": signal.characteristic,
                "top_factor": top.label if top else None,
                "top_factor_effect_name": top.effect_name if top else None,
                "top_factor_effect": top.effect if top else None,
                "top_factor_p_value": top.p_value if top else None,
                "units_analysed": units,
                "factors": [f.as_dict() for f in factors],
                "template": build_template(signal, factors),
            }
        )
    return cases


def open_cases(warehouse_conn, state_path: Path, day: date, rules: SignalRules | None = None) -> OpenedCases:
    cases = analyse_day(warehouse_conn, day, rules)
    new = []
    with state_connection(state_path) as state:
        for case in cases:
            if upsert_case(state, case, RECURRING_WITHIN_DAYS):
                new.append(case["case_id"])
    return OpenedCases(day, [c["case_id"] for c in cases], new)
