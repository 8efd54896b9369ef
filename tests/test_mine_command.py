"""The `mine` command: any event log mined as the pipeline mines a window, every filter listed with what it
removed, a bad argument one line. The real logs (../shared/data/real) are skipped when absent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestration.mining.command import main

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
FILTERS = {
    "completeness (min_end_share)",
    "top variants (top_variants)",
    "noise threshold (noise_threshold)",
    "replay cap (max_variants)",
    "alignment cap (align_variants, align_time_s)",
}

# Three cases: two run A > B > C, one stops at A (still in progress when the export was taken).
OFFICE_LOG = """case,activity,timestamp
c1,A,2024-01-01T08:00:00
c1,B,2024-01-01T09:00:00
c1,C,2024-01-01T10:00:00
c2,A,2024-01-02T08:00:00
c2,B,2024-01-02T09:30:00
c2,C,2024-01-02T10:00:00
c3,A,2024-01-03T08:00:00
"""


def _run(args: list[str], tmp_path: Path) -> dict:
    out = tmp_path / "mined.json"
    assert main([*args, "--json", str(out)]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_a_log_without_machines_is_mined_whole_with_every_filter_listed(tmp_path: Path, capsys) -> None:
    """No resource column, a one-event case: nothing quarantined, nothing filtered by default, and each
    filter named with the cases and events it removed (none)."""
    log = tmp_path / "office.csv"
    log.write_text(OFFICE_LOG, encoding="utf-8")
    result = _run(
        [str(log), "--html", str(tmp_path / "mined.html"), "--tables", str(tmp_path / "t")], tmp_path
    )
    assert result["read"]["quarantined"] == 0 and result["read"]["events"] == 7
    assert result["figures"]["cases"] == 3 and result["figures"]["variants"] == 2
    assert {f["filter"] for f in result["filters"]} == FILTERS
    removed = {f["filter"]: (f["cases_removed"], f["events_removed"]) for f in result["filters"]}
    assert removed["completeness (min_end_share)"] == (0, 0)
    assert removed["replay cap (max_variants)"] == (0, 0)
    assert result["figures"]["token_fitness"] == pytest.approx(1.0)
    assert "mined: 3 cases, 7 events, 2 variants" in capsys.readouterr().out
    assert (tmp_path / "t" / "dfg.csv").is_file() and "filters" in (tmp_path / "mined.html").read_text()


def test_a_filter_that_is_asked_for_says_what_it_removed(tmp_path: Path) -> None:
    log = tmp_path / "office.csv"
    log.write_text(OFFICE_LOG, encoding="utf-8")
    result = _run([str(log), "--min-end-share", "0.1", "--top-variants", "1"], tmp_path)
    removed = {f["filter"]: (f["cases_removed"], f["events_removed"]) for f in result["filters"]}
    assert removed["completeness (min_end_share)"] == (1, 1)  # c3 never moved past A
    assert removed["top variants (top_variants)"] == (0, 0)  # one variant is left: nothing more to cut
    assert result["settings"]["min_end_share"] == 0.1 and result["figures"]["cases"] == 2


def test_a_window_says_which_cases_and_events_it_left_out(tmp_path: Path) -> None:
    log = tmp_path / "office.csv"
    log.write_text(OFFICE_LOG, encoding="utf-8")
    result = _run([str(log), "--window", "2024-01-01..2024-01-02"], tmp_path)
    window = result["filters"][0]
    assert window["filter"] == "window (--window)"
    assert (window["cases_removed"], window["events_removed"]) == (1, 1)  # c3, on 2024-01-03
    assert result["figures"]["cases"] == 2 and result["figures"]["events"] == 6


@pytest.mark.parametrize("name", ["running-example.xes", "pm4py/roadtraffic100traces.xes"])
def test_the_command_mines_real_logs_as_pm4py_counts_them(name: str, tmp_path: Path) -> None:
    import pm4py

    path = REAL / name
    if not path.exists():
        pytest.skip(f"{path} is not present")
    result = _run([str(path)], tmp_path)
    frame = pm4py.read_xes(str(path), show_progress_bar=False)
    dfg, _, _ = pm4py.discover_dfg(frame)
    assert result["figures"]["cases"] == frame["case:concept:name"].nunique()
    assert result["figures"]["variants"] == len(pm4py.get_variants(frame))
    assert {(e["source"], e["target"]): e["frequency"] for e in result["tables"]["dfg"]} == dict(dfg)
    assert result["read"]["quarantined"] == 0 and {f["filter"] for f in result["filters"]} == FILTERS


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.xes"], "no such file"),
        (["{log}", "--min-end-share", "2"], "not within 0 .. 1"),
        (["{log}", "--window", "2024-01-05..2024-01-01"], "ends before it starts"),
        (["{log}", "--top-variants", "0"], "at least 1"),
    ],
)
def test_a_bad_argument_is_one_line(args, message, tmp_path: Path, capsys) -> None:
    log = tmp_path / "office.csv"
    log.write_text(OFFICE_LOG, encoding="utf-8")
    args = [a.format(log=log) for a in args]
    try:
        status = main(args)
    except SystemExit as stop:
        status = stop.code
    assert status == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
