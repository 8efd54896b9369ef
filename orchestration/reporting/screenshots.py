"""Screenshots of a day's director, quality and maintenance reports with headless Chromium, for reviewers
without a browser:

    python -m orchestration.reporting.screenshots --day 2026-11-14 [--out docs/screenshots] \
        [--roles director quality maintenance]

Renders the roles' reports from the warehouse (read-only) onto the report shelf, then photographs each page
with the system's Chromium (Debian's ``chromium``; no browser is downloaded). Exit status 1 without Chromium.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

from orchestration.plant import resolve_plant
from orchestration.reporting.publish import render_daily_reports

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
WINDOW = "1280,2400"


def find_chromium() -> str | None:
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


# A fresh profile each time, no network, no first-run UI, no sync: the same page renders the same.
HEADLESS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def screenshot(chromium: str, page: Path, png: Path, window: str = WINDOW, timeout_s: float = 120) -> Path:
    """One PNG of ``page`` (a local HTML file)."""
    flags = ["--hide-scrollbars", f"--screenshot={png.resolve()}", f"--window-size={window}"]
    return _headless(chromium, page, png, flags, timeout_s, "screenshot")


def print_pdf(chromium: str, page: Path, pdf: Path, timeout_s: float = 120) -> Path:
    """The page as a PDF, laid out by its @media print rules (A4/Letter as Chromium defaults)."""
    flags = ["--no-pdf-header-footer", f"--print-to-pdf={pdf.resolve()}"]
    return _headless(chromium, page, pdf, flags, timeout_s, "PDF")


def _headless(chromium: str, page: Path, out: Path, flags: list[str], timeout_s: float, what: str) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        subprocess.run(
            [chromium, *HEADLESS, f"--user-data-dir={profile}", *flags, page.resolve().as_uri()],
            check=True,
            capture_output=True,
            timeout=timeout_s,
        )
    if not out.exists():
        raise RuntimeError(f"Chromium wrote no {what} of {page}")
    return out


def main(argv: list[str] | None = None) -> int:
    plant = resolve_plant()
    settings = plant.paths
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day", required=True, help="factory day, YYYY-MM-DD")
    parser.add_argument("--roles", nargs="+", default=["director", "quality", "maintenance"])
    parser.add_argument("--out", type=Path, default=settings.reports_dir / "screenshots")
    parser.add_argument("--warehouse", type=Path, default=settings.warehouse_path)
    parser.add_argument("--reports", type=Path, default=settings.reports_dir)
    parser.add_argument("--pdf", action="store_true", help="also print each report to PDF beside its HTML")
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("no Chromium on PATH: install Debian's (apt-get install -y chromium)", file=sys.stderr)
        return 1
    with duckdb.connect(str(args.warehouse), read_only=True) as conn:
        conn.execute("set TimeZone = 'UTC'")
        rendered = render_daily_reports(
            conn,
            args.day,
            args.reports,
            roles=args.roles,
            calendar=plant.calendar,
            rca_state=plant.paths.state_path,
            file_group=plant.paths.file_group,
        )
    for role, report in rendered.items():
        png = screenshot(chromium, report.html, args.out / f"{role}.png")  # the page names its day
        print(f"{role:<12} {png}")
        if args.pdf:
            print(f"{'':<12} {print_pdf(chromium, report.html, report.html.with_suffix('.pdf'))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
