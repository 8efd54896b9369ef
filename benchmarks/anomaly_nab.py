"""NAB realKnownCause (3 files): standard-profile scores of the published detectors and of ours.

    .venv/bin/python benchmarks/anomaly_nab.py [--nab ../shared/data/anomaly/nab]

The published detectors are scored from their own per-row anomaly scores (results/<detector>/) at NAB's
tuned standard thresholds (thresholds.json), with orchestration.anomalies.nab, and printed beside the per-file
values of SOURCES.md: the difference checks our scorer against NAB's own.

Ours is the `detect` tool (orchestration.anomalies.cli.score_export) at its default thresholds, nothing
tuned on these files. Protocol: learn the baseline on the probationary period (the first 15 % of rows, capped
at 750: the part NAB does not score), judge the rest a day at a time, each day against as many rows just
before it (`detect --train-rows`: the plant's rolling reference, decided before scoring), and report one NAB
detection per alarm (what a person is shown), on the first row at or after its start, on the file's own
timestamps. Alarms are raised
once per problem; NAB counts every flagged row outside a window as a false positive, so flagging each row
of an alarm would be meaningless. The raw detector events are scored too, one detection per event.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from orchestration.anomalies import nab
from orchestration.anomalies.cli import score_export

ROOT = Path(__file__).resolve().parent.parent
PROFILE = "standard"
# SOURCES.md: per-file standard-profile scores computed with NAB's own scorer.
PUBLISHED = {
    "ambient_temperature_system_failure": {
        "ARTime": 91.4,
        "numenta": 31.0,
        "numentaTM": 77.7,
        "windowedGaussian": 0.0,
        "twitterADVec": 0.0,
        "random": 58.5,
        "null": 0.0,
    },
    "cpu_utilization_asg_misconfiguration": {
        "ARTime": 37.1,
        "numenta": 37.2,
        "numentaTM": 21.3,
        "windowedGaussian": -5.5,
        "twitterADVec": 48.8,
        "random": -93.5,
        "null": 0.0,
    },
    "ec2_request_latency_system_failure": {
        "ARTime": 73.2,
        "numenta": 78.4,
        "numentaTM": 78.4,
        "windowedGaussian": 83.7,
        "twitterADVec": 83.7,
        "random": 19.8,
        "null": 0.0,
    },
}


def published_score(folder: Path, detector: str, file: str, windows, cost: dict, threshold: float):
    rows = pd.read_csv(folder / "results" / detector / f"{detector}_{file}.csv")
    detections = nab.detections_from_scores(rows["anomaly_score"], threshold)
    return nab.score_detections(rows["timestamp"], detections, windows, cost)


def our_scores(frame: pd.DataFrame, windows, cost: dict) -> tuple[nab.NabScore, nab.NabScore, int, int]:
    """Ours: one detection per alarm, and one per raw detector event; the numbers of each."""
    probation = nab.probation_length(len(frame))
    frame = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    scored = score_export(frame, "timestamp", ["value"], train_rows=probation)
    by_alarm, by_event = (
        nab.score_detections(
            frame["timestamp"],
            nab.detections_from_events(frame["timestamp"], found),
            windows,
            cost,
            probation,
        )
        for found in (scored.alarms, scored.events)
    )
    return by_alarm, by_event, len(scored.alarms), len(scored.events)


def score_line(name: str, score: nab.NabScore, expected: float | None = None) -> str:
    published = f"{expected:6.1f} {score.normalized - expected:+6.2f}" if expected is not None else " " * 13
    return f"  {name:18s} {score.normalized:7.1f} {published}   {score.tp:2d} {score.fp:4d} {score.fn:2d}"


def score_file(folder: Path, file: str, windows, cost: dict, thresholds: dict) -> tuple[list[float], float]:
    """Print one file's table; return the published cells' differences and our normalized score."""
    frame = pd.read_csv(folder / "data" / f"{file}.csv")
    probation = nab.probation_length(len(frame))
    print(f"\n{file}: {len(frame)} rows, {len(windows)} windows, probation {probation} rows")
    print(f"  {'detector':18s} {'scored':>7s} {'NAB':>6s} {'diff':>6s}   tp   fp fn")
    differences = []
    for detector, expected in PUBLISHED[file].items():
        score = published_score(folder, detector, file, windows, cost, thresholds[detector][PROFILE])
        differences.append(abs(score.normalized - expected))
        print(score_line(detector, score, expected))
    by_alarm, by_event, n_alarms, n_events = our_scores(frame, windows, cost)
    print(f"{score_line('detect (ours)', by_alarm)}   {n_alarms} alarms")
    print(f"{score_line('  raw events', by_event)}   {n_events} detector events")
    return differences, by_alarm.normalized


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nab", type=Path, default=ROOT.parent / "shared" / "data" / "anomaly" / "nab")
    args = parser.parse_args()
    windows = nab.load_windows(args.nab / "combined_windows.json")
    cost = nab.load_profiles(args.nab / "profiles.json")[PROFILE]
    thresholds = nab.load_thresholds(args.nab / "thresholds.json")
    print(f"NAB {PROFILE} profile, per file 100 x (raw + windows) / (2 x windows): null 0, perfect 100")
    differences, ours = [], {}
    for file in PUBLISHED:
        cells, ours[file] = score_file(args.nab, file, windows[file], cost, thresholds)
        differences += cells
    within = sum(d <= 0.1 for d in differences)
    ours_text = ", ".join(f"{score:.1f}" for score in ours.values())
    mean = np.mean(list(ours.values()))
    print(
        f"\nscorer vs NAB: {within}/{len(differences)} cells within 0.1"
        f" (largest |diff| {max(differences):.2f}); ours: {ours_text} (mean {mean:.1f})"
    )


if __name__ == "__main__":
    main()
