"""Reports from the warehouse: each role's daily report, each shift's handover, the day's data-quality page.

Pure domain code, no Dagster. The API the wiring and the CLIs call:

    render_daily_reports(conn, day, reports_dir, roles=None, *, calendar, rca_state=None)
        -> {role: RenderedReport}
    published_daily_reports(reports_dir, day) -> {role: RenderedReport}   (what was rendered, read back)
    render_shift_handover(conn, day, shift_name, reports_dir, *, calendar) -> RenderedReport
    render_quality_page(reports_day_dir, day, held_back) -> Path | None

``calendar`` is the plant's ``FactoryCalendar`` (times shown in the factory's zone, shift windows);
``rca_state`` the state file whose RCA cases the reports list.

Command line: ``python -m orchestration.reporting --day D [--role R] [--handover SHIFT]``.
"""

from orchestration.reporting.day_figures import load_held_back
from orchestration.reporting.publish import (
    RenderedReport,
    published_daily_reports,
    render_daily_reports,
    render_shift_handover,
)
from orchestration.reporting.quality_page import render_quality_page

__all__ = [
    "RenderedReport",
    "load_held_back",
    "published_daily_reports",
    "render_daily_reports",
    "render_quality_page",
    "render_shift_handover",
]
