"""Report screenshots and PDFs through headless Chromium: here a stand-in that records its arguments."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from orchestration.reporting.screenshots import print_pdf, screenshot

STAND_IN = """#!/bin/sh
echo "$@" > "{log}"
for a in "$@"; do
  case $a in
    --screenshot=*) {write} "${{a#--screenshot=}}";;
    --print-to-pdf=*) {write} "${{a#--print-to-pdf=}}";;
  esac
done
"""


def stand_in(tmp_path: Path, writes: bool) -> tuple[str, Path]:
    log = tmp_path / "args.txt"
    script = tmp_path / "chromium"
    script.write_text(STAND_IN.format(log=log, write="touch" if writes else "true"))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script), log


def test_a_report_is_shot_and_printed_headless_with_a_fresh_profile(tmp_path):
    chromium, log = stand_in(tmp_path, writes=True)
    page = tmp_path / "director.html"
    page.write_text("<html></html>")
    png = screenshot(chromium, page, tmp_path / "shots" / "director.png")
    shot_args = log.read_text().split()
    pdf = print_pdf(chromium, page, tmp_path / "director.pdf")
    pdf_args = log.read_text().split()
    assert png.exists() and pdf.exists()
    for args in (shot_args, pdf_args):
        assert args[0] == "--headless" and args[-1] == page.resolve().as_uri()
        assert "--disable-background-networking" in args
        assert any(a.startswith("--user-data-dir=") for a in args)
    assert f"--screenshot={png.resolve()}" in shot_args and "--no-pdf-header-footer" in pdf_args
    profiles = {a for a in shot_args + pdf_args if a.startswith("--user-data-dir=")}
    assert len(profiles) == 2  # each run its own profile


def test_chromium_writing_nothing_is_an_error_naming_the_page(tmp_path):
    chromium, _ = stand_in(tmp_path, writes=False)
    page = tmp_path / "quality.html"
    page.write_text("<html></html>")
    with pytest.raises(RuntimeError, match="no PDF of .*quality.html"):
        print_pdf(chromium, page, tmp_path / "quality.pdf")
