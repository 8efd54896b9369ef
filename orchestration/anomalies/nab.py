"""Numenta Anomaly Benchmark (NAB) scoring: labelled windows, per-row rewards and the normalized score.

Written from NAB's own scorer (numenta/NAB ``nab/sweeper.py``, the version that produced the published
results) so that a detector of ours can be scored on NAB's files exactly as the published detectors were:

- the first ``min(floor(0.15 * rows), 0.15 * 5000)`` rows are probationary: neither their detections nor
  their window rows are scored;
- inside a window only the earliest detection counts, rewarded ``S(-(right - row + 1) / width) * tp / S(-1)``
  where ``S`` is the scaled sigmoid, ``right`` the window's last row and ``width`` its rows: a detection on
  the first row earns the full TP weight, one on the last row almost nothing;
- a detection outside every window costs ``S(|row - right| / (width - 1)) * fp`` against the preceding window
  (a detection just after a window is almost forgiven), or ``-fp`` when no window precedes it;
- a window without a detection costs ``fn``.

Pure numpy and pandas: no Dagster, so the ``detect`` CLI and the benchmark can both use it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

PROBATION_FRACTION = 0.15
# NAB caps the probationary period at the length it would have on a 5,000-row file (750 rows).
PROBATION_CAP_ROWS = 5000
# NAB's standard profile (config/profiles.json): a false positive costs 0.11 of a found window.
STANDARD_PROFILE = {"tpWeight": 1.0, "fpWeight": 0.11, "fnWeight": 1.0}


@dataclass(frozen=True)
class NabScore:
    """One file's NAB score: counts are per window (tp, fn) and per detection row outside windows (fp)."""

    raw: float
    normalized: float
    tp: int
    fp: int
    fn: int
    windows: int


def scaled_sigmoid(position: np.ndarray | float) -> np.ndarray | float:
    """NAB's reward curve: +0.987 at -1 (a window's first row), 0 at 0 (its end), -1 from 3 on (far after)."""
    position = np.asarray(position, dtype=np.float64)
    curve = 2.0 / (1.0 + np.exp(5.0 * np.minimum(position, 3.0))) - 1.0
    result = np.where(position >= 3.0, -1.0, curve)
    return float(result) if result.ndim == 0 else result


def probation_length(n_rows: int, fraction: float = PROBATION_FRACTION) -> int:
    """Rows NAB leaves unscored at the start of a file, where a detector is still learning what is normal."""
    return int(min(math.floor(fraction * n_rows), fraction * PROBATION_CAP_ROWS))


def normalized(raw: float, n_windows: int, tp_weight: float = 1.0, fn_weight: float = 1.0) -> float:
    """Per-file normalization: 0 for the null detector (every window missed), 100 for a perfect one.

    With the standard profile this is ``100 * (raw + windows) / (2 * windows)``. NaN for a file without
    windows, where the null and the perfect detector score the same.
    """
    if n_windows == 0:
        return float("nan")
    null, perfect = -fn_weight * n_windows, tp_weight * n_windows
    return 100.0 * (raw - null) / (perfect - null)


def load_windows(path: Path | str) -> dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]:
    """NAB's ``combined_windows.json``, keyed by file stem (``ambient_temperature_system_failure``)."""
    labels = json.loads(Path(path).read_text())
    return {
        Path(name).stem: sorted((pd.Timestamp(start), pd.Timestamp(end)) for start, end in limits)
        for name, limits in labels.items()
    }


def load_profiles(path: Path | str) -> dict[str, dict[str, float]]:
    """NAB's ``profiles.json`` as ``{profile: {"tpWeight": .., "fpWeight": .., "fnWeight": ..}}``."""
    return {name: dict(entry["CostMatrix"]) for name, entry in json.loads(Path(path).read_text()).items()}


def load_thresholds(path: Path | str) -> dict[str, dict[str, float]]:
    """NAB's tuned ``thresholds.json`` as ``{detector: {profile: threshold}}``."""
    tuned = json.loads(Path(path).read_text())
    return {
        detector: {profile: float(entry["threshold"]) for profile, entry in profiles.items()}
        for detector, profiles in tuned.items()
    }


def _epoch_ns(timestamps) -> np.ndarray:
    """Timestamps as UTC epoch nanoseconds; naive ones (NAB's files) are read as UTC."""
    return pd.to_datetime(pd.Series(timestamps), utc=True).to_numpy(dtype="datetime64[ns]").astype(np.int64)


def window_rows(timestamps, windows: Iterable[tuple]) -> list[tuple[int, int]]:
    """Each window as (first row, last row), both inclusive; windows holding no row are dropped.

    A window opens at the first row stamped at or after its start and closes at the first row stamped with
    its end (NAB closes it there even if that timestamp repeats), else at the last row before its end.
    NAB's labels fall on rows; the generalization only matters for windows that do not.
    """
    stamps = _epoch_ns(timestamps)
    rows = []
    for start, end in windows:
        first = int(np.searchsorted(stamps, _epoch_ns([start])[0], side="left"))
        end_ns = _epoch_ns([end])[0]
        last = int(np.searchsorted(stamps, end_ns, side="left"))
        if last == len(stamps) or stamps[last] != end_ns:
            last -= 1
        if first <= last:
            rows.append((first, last))
    return sorted(rows)


def _weights(profile: dict) -> tuple[float, float, float]:
    """(tp, fp, fn) weights from a profile, given either as its cost matrix or as NAB's profile entry."""
    matrix = profile.get("CostMatrix", profile)
    return float(matrix["tpWeight"]), float(matrix["fpWeight"]), float(matrix["fnWeight"])


def row_scores(n_rows: int, windows: list[tuple[int, int]], profile: dict) -> np.ndarray:
    """What a detection on each row would be worth (NAB's ``S(t)`` column), before probation is applied.

    Inside a window: the TP reward (the scorer keeps only the earliest, the largest); outside: the FP cost.
    """
    tp_weight, fp_weight, _ = _weights(profile)
    rows = np.arange(n_rows)
    scores = np.full(n_rows, -fp_weight)  # before the first window: nothing to be close to
    full_reward = scaled_sigmoid(-1.0)
    for k, (first, last) in enumerate(windows):
        width = last - first + 1
        inside = rows[first : last + 1]
        scores[first : last + 1] = scaled_sigmoid(-(last - inside + 1) / width) * tp_weight / full_reward
        following = windows[k + 1][0] if k + 1 < len(windows) else n_rows
        after = rows[last + 1 : following]
        # NAB divides by width - 1; a one-row window gives no scale, so its followers pay the full cost.
        distance = np.abs(after - last) / (width - 1) if width > 1 else np.full(len(after), 3.0)
        scores[last + 1 : following] = scaled_sigmoid(distance) * fp_weight
    return scores


def score_detections(
    timestamps, detections, windows, profile: dict, probation_rows: int | None = None
) -> NabScore:
    """NAB's score of one file's detections (a bool per row, rows in time order) against its windows."""
    detections = np.asarray(detections, dtype=bool)
    n_rows = len(detections)
    tp_weight, _, fn_weight = _weights(profile)
    probation = probation_length(n_rows) if probation_rows is None else int(probation_rows)
    spans = window_rows(timestamps, windows)
    worth = row_scores(n_rows, spans, profile)
    judged = detections & (np.arange(n_rows) >= probation)
    outside = judged.copy()
    raw, tp, fn, scored_windows = 0.0, 0, 0, 0
    for first, last in spans:
        outside[first : last + 1] = False
        if last < probation:
            continue  # NAB does not score a window that lies wholly in the probationary period
        scored_windows += 1
        hits = np.flatnonzero(judged[first : last + 1])
        if len(hits):
            raw += float(worth[first + hits[0]])
            tp += 1
        else:
            raw -= fn_weight
            fn += 1
    raw += float(worth[outside].sum())
    return NabScore(
        raw=raw,
        normalized=normalized(raw, scored_windows, tp_weight, fn_weight),
        tp=tp,
        fp=int(outside.sum()),
        fn=fn,
        windows=scored_windows,
    )


def detections_from_scores(anomaly_scores, threshold: float) -> np.ndarray:
    """A published detector's detections: every row whose anomaly score reaches the tuned threshold."""
    return np.asarray(anomaly_scores, dtype=np.float64) >= threshold


def detections_from_events(timestamps, events) -> np.ndarray:
    """One detection per event, on the first row stamped at or after the event's start.

    An alarm is raised once per event; flagging every row of an event would count each of them as a false
    positive outside a window. Events starting after the last row are dropped.
    """
    stamps_us = _epoch_ns(timestamps) // 1000
    detections = np.zeros(len(stamps_us), dtype=bool)
    starts = np.array([e.start_us for e in events], dtype=np.int64)
    rows = np.searchsorted(stamps_us, starts, side="left")
    detections[rows[rows < len(stamps_us)]] = True
    return detections
