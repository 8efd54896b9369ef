"""Root-cause analysis: quality signals open cases, candidate factors are ranked, teams track the lifecycle.

Pure domain code, no Dagster: ``open_cases`` reads the warehouse and writes the operational state file
(schema ``rca``, settings.state_path), ``transition`` moves a case through its lifecycle.
"""

from orchestration.rca.cases import OpenedCases, analyse_day, open_cases
from orchestration.rca.signals import Signal, SignalRules, detect_signals
from orchestration.rca.store import (
    STATUSES,
    IllegalTransition,
    list_cases,
    show_case,
    state_connection,
    transition,
)

__all__ = [
    "STATUSES",
    "IllegalTransition",
    "OpenedCases",
    "Signal",
    "SignalRules",
    "analyse_day",
    "detect_signals",
    "list_cases",
    "open_cases",
    "show_case",
    "state_connection",
    "transition",
]
