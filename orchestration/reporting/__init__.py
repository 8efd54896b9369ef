"""The daily factory report: data from the warehouse, inline-SVG charts, one self-contained HTML page.

Pure domain code, no Dagster: ``load_daily_report`` reads, ``render_daily_report`` writes.
"""

from orchestration.reporting.daily_report import (
    DailyReport,
    FactoryKpis,
    MachineOee,
    ProcessMiningSummary,
    TrendPoint,
    load_daily_report,
)
from orchestration.reporting.render import fmt_percent, render_daily_report, report_json

__all__ = [
    "DailyReport",
    "FactoryKpis",
    "MachineOee",
    "ProcessMiningSummary",
    "TrendPoint",
    "fmt_percent",
    "load_daily_report",
    "render_daily_report",
    "report_json",
]
