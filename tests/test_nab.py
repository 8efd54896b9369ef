"""NAB scorer: hand-computed scores on small series, and NAB's published per-file scores on the real files."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from orchestration.anomalies import nab

STANDARD = {"tpWeight": 1.0, "fpWeight": 0.11, "fnWeight": 1.0}
NAB_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "anomaly" / "nab"
HOURS = pd.date_range("2024-01-01", periods=100, freq="h")
# One window over rows 40..49 (10 rows); rows before 10 are probationary in these tests.
WINDOW = [(HOURS[40], HOURS[49])]


def score(rows: list[int], windows=WINDOW, probation: int = 10) -> nab.NabScore:
    detections = np.zeros(len(HOURS), dtype=bool)
    detections[rows] = True
    return nab.score_detections(HOURS, detections, windows, STANDARD, probation_rows=probation)


def test_scaled_sigmoid_and_probation_follow_nab():
    assert nab.scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert nab.scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert nab.scaled_sigmoid(0.0) == 0.0
    assert nab.scaled_sigmoid(3.0) == -1.0
    assert nab.probation_length(1000) == 150
    assert nab.probation_length(4032) == 604
    assert nab.probation_length(18050) == 750  # capped at 15 % of 5,000 rows


def test_normalized_puts_null_at_0_and_perfect_at_100():
    assert nab.normalized(-3.0, 3) == 0.0
    assert nab.normalized(3.0, 3) == 100.0
    assert nab.normalized(0.0, 2) == 50.0
    assert np.isnan(nab.normalized(0.0, 0))


def test_a_missed_window_costs_the_fn_weight():
    assert score([]) == nab.NabScore(raw=-1.0, normalized=0.0, tp=0, fp=0, fn=1, windows=1)


def test_detection_on_the_first_row_of_a_window_earns_the_full_reward():
    result = score([40])
    assert (result.raw, result.normalized, result.tp, result.fn) == (
        pytest.approx(1.0),
        pytest.approx(100.0),
        1,
        0,
    )


def test_a_late_detection_earns_less_and_only_the_earliest_counts():
    last_row = nab.scaled_sigmoid(-1 / 10) / nab.scaled_sigmoid(-1.0)
    assert score([49]).raw == pytest.approx(last_row)
    assert score([45, 46, 49]).raw == pytest.approx(score([45]).raw)
    assert score([45, 46, 49]).fp == 0


def test_false_positives_before_any_window_cost_the_full_fp_weight():
    result = score([20, 30])
    assert result.raw == pytest.approx(-1.0 - 2 * 0.11)
    assert result.fp == 2


def test_a_false_positive_just_after_a_window_is_almost_forgiven():
    # Distance past the window's last row over (width - 1): 1 / 9 just after it, 3 or more is the full cost.
    assert score([40, 50]).raw == pytest.approx(1.0 + 0.11 * nab.scaled_sigmoid(1 / 9))
    assert score([40, 50]).raw > 1.0 - 0.11 * 0.5
    assert score([40, 76]).raw == pytest.approx(1.0 - 0.11)


def test_probationary_rows_are_not_scored():
    assert score([5, 40]).raw == pytest.approx(1.0)
    early_window = [(HOURS[2], HOURS[6])]
    assert score([4], windows=early_window).windows == 0
    # A window that straddles the probation end: its probationary rows cannot detect it.
    straddling = [(HOURS[5], HOURS[14])]
    assert score([6], windows=straddling).fn == 1
    assert score([12], windows=straddling).tp == 1


def test_windows_map_to_rows_and_close_at_the_first_row_of_a_repeated_end():
    stamps = pd.to_datetime([f"2024-01-01 {hour:02d}:00" for hour in (0, 1, 2, 2, 3)])
    window = [(pd.Timestamp("2024-01-01 00:30"), pd.Timestamp("2024-01-01 02:00"))]
    assert nab.window_rows(stamps, window) == [(1, 2)]


def test_detections_from_events_mark_the_first_row_at_or_after_each_start():
    stamps_us = HOURS.as_unit("us").asi8
    hour_us = 3_600_000_000
    events = [
        SimpleNamespace(start_us=int(stamps_us[3])),
        SimpleNamespace(start_us=int(stamps_us[7] + hour_us // 2)),
        SimpleNamespace(start_us=int(stamps_us[-1] + hour_us)),  # after the last row: dropped
    ]
    assert np.flatnonzero(nab.detections_from_events(HOURS, events)).tolist() == [3, 8]


def test_load_windows_keys_by_file_stem(tmp_path):
    path = tmp_path / "windows.json"
    path.write_text(
        json.dumps({"realKnownCause/machine.csv": [["2024-01-01 01:00:00.000000", "2024-01-01 02:00"]]})
    )
    assert nab.load_windows(path) == {
        "machine": [(pd.Timestamp("2024-01-01 01:00"), pd.Timestamp("2024-01-01 02:00"))]
    }


PUBLISHED = {  # SOURCES.md, standard profile, normalized per file
    "ambient_temperature_system_failure": [91.4, 31.0, 77.7, 0.0, 0.0, 58.5, 0.0],
    "cpu_utilization_asg_misconfiguration": [37.1, 37.2, 21.3, -5.5, 48.8, -93.5, 0.0],
    "ec2_request_latency_system_failure": [73.2, 78.4, 78.4, 83.7, 83.7, 19.8, 0.0],
}
DETECTORS = ["ARTime", "numenta", "numentaTM", "windowedGaussian", "twitterADVec", "random", "null"]


def test_reproduces_nab_published_scores_on_the_real_files():
    if not NAB_DIR.exists():
        pytest.skip(f"NAB reference data not found at {NAB_DIR}")
    windows = nab.load_windows(NAB_DIR / "combined_windows.json")
    cost = nab.load_profiles(NAB_DIR / "profiles.json")["standard"]
    thresholds = nab.load_thresholds(NAB_DIR / "thresholds.json")
    for file, expected in PUBLISHED.items():
        for detector, published in zip(DETECTORS, expected, strict=True):
            rows = pd.read_csv(NAB_DIR / "results" / detector / f"{detector}_{file}.csv")
            detections = nab.detections_from_scores(rows["anomaly_score"], thresholds[detector]["standard"])
            result = nab.score_detections(rows["timestamp"], detections, windows[file], cost)
            assert result.normalized == pytest.approx(published, abs=0.1), (file, detector)
            if detector == "ARTime":  # its results carry NAB's own per-row S(t) column
                spans = nab.window_rows(rows["timestamp"], windows[file])
                worth = nab.row_scores(len(rows), spans, cost)
                np.testing.assert_allclose(worth, rows["S(t)_standard"], atol=1e-6)
