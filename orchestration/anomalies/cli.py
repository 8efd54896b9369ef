"""`detect`: score any CSV export with the platform's detectors and write the scored rows and the events.

    python -m orchestration.anomalies data.csv --time-col datetime --value-cols a,b,c [--label-col anomaly]
        [--train normal.csv] [--sep ';'] [--out scored]

Rows are taken in time order as one grid (one reading per row and column). Without ``--train`` the file is its
own robust baseline, with the wider warm-up thresholds. With a label column, precision, recall, F1 and the
false-alarm rate are printed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from orchestration.anomalies.detectors import SensorGrid
from orchestration.anomalies.evaluation import point_scores
from orchestration.anomalies.scoring import Detectors, detect, fit_detectors


def grid_of(frame: pd.DataFrame, time_col: str, value_cols: list[str], group: str = "file") -> SensorGrid:
    times = pd.to_datetime(frame[time_col], utc=True)
    step = times.diff().median()
    interval_us = int(step / pd.Timedelta(microseconds=1)) if pd.notna(step) and step > pd.Timedelta(0) else 1
    return SensorGrid(
        sensor_ids=list(value_cols),
        machine_ids=[group] * len(value_cols),
        start_us=int(times.iloc[0].value // 1000),
        interval_us=interval_us,
        values=frame[value_cols].to_numpy(dtype=np.float64).T.copy(),
    )


def score_frame(
    frame: pd.DataFrame, time_col: str, value_cols: list[str], train: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, list, Detectors]:
    frame = frame.sort_values(time_col, kind="stable").reset_index(drop=True)
    grid = grid_of(frame, time_col, value_cols)
    if train is not None:
        train = train.sort_values(time_col, kind="stable").reset_index(drop=True)
        detectors = fit_detectors(grid_of(train, time_col, value_cols))
    else:
        detectors = fit_detectors(grid, from_judged_data=True)
    scored = detect(grid, detectors)
    out = frame.copy()
    for row, column in enumerate(value_cols):
        out[f"{column}__z"] = scored.z[row]
    out["anomaly_flag"] = scored.flagged.any(axis=0)
    return out, scored.events, detectors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="detect", description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--time-col", required=True)
    parser.add_argument("--value-cols", required=True, help="comma-separated numeric columns to score")
    parser.add_argument("--label-col", help="0/1 column of known anomalies, to print precision/recall/F1")
    parser.add_argument("--train", type=Path, help="a CSV of normal operation to learn the baseline from")
    parser.add_argument("--sep", default=",")
    parser.add_argument("--out", type=Path, default=Path("scored"), help="output directory")
    args = parser.parse_args(argv)
    columns = [c.strip() for c in args.value_cols.split(",") if c.strip()]
    frame = pd.read_csv(args.csv, sep=args.sep)
    missing = [
        c for c in [args.time_col, *columns, *([args.label_col] if args.label_col else [])] if c not in frame
    ]
    if missing:
        parser.error(f"columns not in {args.csv}: {', '.join(missing)} (have: {', '.join(frame.columns)})")
    train = pd.read_csv(args.train, sep=args.sep) if args.train else None
    scored, events, _ = score_frame(frame, args.time_col, columns, train)
    args.out.mkdir(parents=True, exist_ok=True)
    scored.to_csv(args.out / "scored_rows.csv", index=False)
    pd.DataFrame(
        [
            {
                "sensor": e.sensor_id,
                "kind": e.kind,
                "start": pd.Timestamp(e.start_us, unit="us", tz="UTC"),
                "end": pd.Timestamp(e.end_us, unit="us", tz="UTC"),
                "severity": e.severity,
                "score": e.score,
                "evidence": json.dumps(e.evidence, default=float),
            }
            for e in events
        ],
        columns=["sensor", "kind", "start", "end", "severity", "score", "evidence"],
    ).to_csv(args.out / "events.csv", index=False)
    print(
        f"{len(scored)} rows scored, {int(scored['anomaly_flag'].sum())} flagged, "
        f"{len(events)} events -> {args.out}/"
    )
    if args.label_col:
        labels = scored[args.label_col].fillna(0).astype(float).to_numpy() > 0.5
        print(point_scores(labels, scored["anomaly_flag"].to_numpy()).line("rows"))
    return 0
