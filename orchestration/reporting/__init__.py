"""Reports from the warehouse: each role's daily report, each shift's handover, the legacy full daily page.

Pure domain code, no Dagster. The API the distribution code calls:

    render_daily_reports(conn, day, reports_dir, roles=None, *, calendar, rca_state=None)
        -> {role: RenderedReport}
    render_shift_handover(conn, day, shift_name, reports_dir, *, calendar) -> RenderedReport

``calendar`` is the plant's ``FactoryCalendar`` (times shown in the factory's zone, shift windows);
``rca_state`` the state file whose RCA cases the reports list.

Command line: ``python -m orchestration.reporting --day D [--role R] [--handover SHIFT]``.
"""

from orchestration.reporting.daily_report import (
    DailyReport,
    FactoryKpis,
    MachineOee,
    ProcessMiningSummary,
    TrendPoint,
    load_daily_report,
)
from orchestration.reporting.publish import RenderedReport, render_daily_reports, render_shift_handover
from orchestration.reporting.render import fmt_percent, render_daily_report, report_json

__all__ = [
    "DailyReport",
    "FactoryKpis",
    "MachineOee",
    "ProcessMiningSummary",
    "RenderedReport",
    "TrendPoint",
    "fmt_percent",
    "load_daily_report",
    "render_daily_report",
    "render_daily_reports",
    "render_shift_handover",
    "report_json",
]
