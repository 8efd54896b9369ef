"""Scoring detections against labels: point-wise precision, recall, F1 and false-alarm rate (as the SKAB
leaderboard reports them), and per labelled window whether and how soon it was found."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.anomalies.runs import runs


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    false_alarm_rate: float  # share of normal points flagged
    windows_found: int
    windows: int
    median_delay: float | None  # points from a labelled window's start to its first flag (found windows)

    def line(self, unit: str = "points") -> str:
        delay = "n/a" if self.median_delay is None else f"{self.median_delay:g} {unit}"
        return (
            f"precision {self.precision:.3f}  recall {self.recall:.3f}  F1 {self.f1:.3f}  "
            f"false-alarm rate {self.false_alarm_rate:.3f}  "
            f"windows found {self.windows_found}/{self.windows}  "
            f"median detection delay {delay}"
        )


def point_scores(labels: np.ndarray, flags: np.ndarray) -> Scores:
    labels = np.asarray(labels, dtype=bool)
    flags = np.asarray(flags, dtype=bool)
    tp = int(np.sum(labels & flags))
    fp = int(np.sum(~labels & flags))
    fn = int(np.sum(labels & ~flags))
    tn = int(np.sum(~labels & ~flags))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    _, first, stop = runs(labels[None, :])
    delays = []
    for a, b in zip(first, stop, strict=True):
        hit = np.nonzero(flags[a:b])[0]
        if len(hit):
            delays.append(int(hit[0]))
    return Scores(
        precision,
        recall,
        f1,
        fp / (fp + tn) if fp + tn else 0.0,
        len(delays),
        len(first),
        float(np.median(delays)) if delays else None,
    )


def combine(parts: list[tuple[np.ndarray, np.ndarray]]) -> Scores:
    """Scores over several labelled series at once (points pooled, windows counted per series)."""
    labels = np.concatenate([p[0] for p in parts])
    flags = np.concatenate([p[1] for p in parts])
    pooled = point_scores(labels, flags)
    per_series = [point_scores(lab, flg) for lab, flg in parts]
    delays = [s.median_delay for s in per_series if s.median_delay is not None]
    return Scores(
        pooled.precision,
        pooled.recall,
        pooled.f1,
        pooled.false_alarm_rate,
        sum(s.windows_found for s in per_series),
        sum(s.windows for s in per_series),
        float(np.median(delays)) if delays else None,
    )


@dataclass(frozen=True)
class Match:
    truth_id: str
    kind: str
    found: bool
    found_kind: str | None
    delay_s: float | None  # from the planted start to the first overlapping event's start (may be negative)


def match_events(truth: list[dict], events: list, slack_us: int = 0) -> tuple[list[Match], list]:
    """Each planted anomaly (dict: anomaly_id, sensor_id, kind, start_us, end_us) against the events of its
    sensor overlapping its window (with ``slack_us`` either side); returns the matches and the events that
    match no planted anomaly (false alarms, unless another truth explains them)."""
    matched_events: set[int] = set()
    matches = []
    for t in truth:
        hits = [
            (n, e)
            for n, e in enumerate(events)
            if e.sensor_id == t["sensor_id"]
            and e.start_us < t["end_us"] + slack_us
            and e.end_us > t["start_us"] - slack_us
        ]
        matched_events.update(n for n, _ in hits)
        first = min(hits, key=lambda h: h[1].start_us)[1] if hits else None
        matches.append(
            Match(
                t["anomaly_id"],
                t["kind"],
                first is not None,
                None if first is None else first.kind,
                None if first is None else (first.start_us - t["start_us"]) / 1e6,
            )
        )
    return matches, [e for n, e in enumerate(events) if n not in matched_events]
