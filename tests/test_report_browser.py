"""Every role's report and a shift handover, laid out by a real browser (Debian's headless Chromium) at a
desktop's 1280 px and a phone's 390 px: nothing reaches past the screen, no text or chart label is cut off,
no chart text shrinks below 7.5 px. Measured in the page (orchestration/reporting/layout_check.py).

The reports are test_report_roles' hand-made day (every role, charts with machine, line and shift labels),
rendered once for the module. Skipped only when no Chromium is installed (`make chromium`), never in CI.
"""

from __future__ import annotations

import os

import pytest
from test_report_roles import shelf  # noqa: F401  (the module fixture: every role's report of the day)

from orchestration.reporting import svg_charts
from orchestration.reporting.layout_check import check_layout
from orchestration.reporting.screenshots import find_chromium

CHROMIUM = find_chromium()
NO_CHROMIUM = "CI: no Chromium on PATH for the browser layout check (make chromium)"
pytestmark = [
    pytest.mark.e2e,  # a browser process
    pytest.mark.skipif(  # CI installs it (make chromium): never a silent skip there
        CHROMIUM is None and not os.environ.get("CI"),
        reason="no Chromium on PATH: the browser layout check needs `make chromium`",
    ),
]


def test_every_report_reads_on_a_desktop_and_on_a_phone(shelf, tmp_path):  # noqa: F811
    assert CHROMIUM is not None, NO_CHROMIUM
    # a chart with the labels the issue saw cut off, and a long one, beside the role reports
    chart = svg_charts.bar_chart(
        ["GRADE-02", "ROOM-COATING", "coating_thickness / COAT-02 (NMC811-PC72)"],
        [117.0, 1234567.0, 0.5],
        "labels",
        "Downtime per machine",
        "Breakdown time (min)",
    )
    labels = tmp_path / "labels.html"
    labels.write_text(
        (shelf["daily"]["director"].html.read_text()).replace(
            "</main>", f'<div class="chart">{chart}</div></main>'
        )
    )
    pages = [report.html for report in shelf["daily"].values()] + [shelf["handover"].html, labels]
    layouts = check_layout(CHROMIUM, pages)
    assert {(layout.page, layout.width) for layout in layouts} == {
        (page.name, width) for page in pages for width in (1280, 390)
    }
    problems = [layout.problems() for layout in layouts if not layout.reads_well]
    assert not problems, "\n".join(problems)


def test_the_check_sees_a_page_that_does_not_fit(tmp_path):
    assert CHROMIUM is not None, NO_CHROMIUM
    page = tmp_path / "wide.html"
    page.write_text(
        '<html><body><div id="wide" style="width:600px">a wide block</div>'
        '<p style="width:80px;overflow:hidden;white-space:nowrap">a sentence cut off at its edge</p>'
        '<svg viewBox="0 0 100 20" width="100" height="20"><text x="90" y="15" font-size="12">GRADE-02</text>'
        "</svg></body></html>"
    )
    desktop, phone = check_layout(CHROMIUM, [page])
    assert desktop.width == 1280 and not desktop.page_scrolls and not desktop.overflowing
    assert phone.width == 390 and phone.page_scrolls and any("#wide" in item for item in phone.overflowing)
    for layout in (desktop, phone):
        assert any("cut off" in item for item in layout.clipped)
        assert any("GRADE-02" in item for item in layout.clipped)
