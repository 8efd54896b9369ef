"""SKAB valve1 (and the simulator's planted faults): precision, recall, F1, false-alarm rate, detection delay.

    .venv/bin/python benchmarks/anomaly_skab.py [--skab ../shared/data/anomaly/skab] [--days 3]

Thresholds are the detectors' defaults, fixed before this script was first run: nothing is tuned on valve1.
Two baselines are reported for SKAB: the brief's (learn on anomaly-free.csv, a different day of the rig) and
the SKAB leaderboard's (learn on the first 400 rows of each valve1 file, which are normal operation).
Published leaderboard (whole benchmark, outlier F1): 0.78 best (Conv-AE, MSET), 0.76 T2+Q,
0.29 Isolation Forest.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from orchestration.anomalies.cli import grid_of
from orchestration.anomalies.evaluation import combine, match_events
from orchestration.anomalies.scoring import detect, fit_detectors

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = [
    "Accelerometer1RMS",
    "Accelerometer2RMS",
    "Current",
    "Pressure",
    "Temperature",
    "Thermocouple",
    "Voltage",
    "Volume Flow RateRMS",
]


def skab(folder: Path) -> None:
    train = pd.read_csv(folder / "anomaly-free" / "anomaly-free.csv", sep=";")
    files = sorted((folder / "valve1").glob("*.csv"), key=lambda p: int(p.stem))
    fitted_free = fit_detectors(grid_of(train, "datetime", COLUMNS))
    results: dict[str, list] = {}
    for path in files:
        frame = pd.read_csv(path, sep=";").sort_values("datetime", kind="stable").reset_index(drop=True)
        labels = frame["anomaly"].to_numpy() > 0.5
        grid = grid_of(frame, "datetime", COLUMNS)
        head = grid_of(frame.iloc[:400], "datetime", COLUMNS)
        for protocol, detectors, judged in (
            ("train anomaly-free.csv", fitted_free, slice(None)),
            ("train first 400 rows", fit_detectors(head), slice(400, None)),
        ):
            scored = detect(grid, detectors)
            multivariate = np.zeros(grid.n_times, dtype=bool)
            for e in scored.events:
                if e.kind == "multivariate":
                    multivariate[
                        (e.start_us - grid.start_us) // grid.interval_us : (e.end_us - grid.start_us)
                        // grid.interval_us
                    ] = True
            for family, flags in (
                ("all detectors", scored.flagged.any(axis=0)),
                ("PCA T2/Q only", multivariate),
            ):
                results.setdefault(f"{protocol:24s} {family}", []).append((labels[judged], flags[judged]))
    print(f"SKAB valve1: {len(files)} files, outlier (point-wise) scores; delay in rows (1 row = 1 s)")
    for name, parts in results.items():
        print(f"  {name:40s} {combine(parts).line('s')}")


def simulator(days: int) -> None:
    import duckdb
    import pyarrow as pa

    from orchestration.anomalies.plant import FactoryClock, detect_day
    from orchestration.simulator import load_scenario
    from orchestration.simulator.engine import run_factory_day

    config = load_scenario(ROOT / "data" / "scenarios" / "test_small.yaml").model_copy(
        update={"sensor_interval_s": 60.0}
    )
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("create schema raw")
    first = date(2026, 11, 9)
    truth = []
    for n in range(days + 1):
        day = first + timedelta(days=n)
        simulated = run_factory_day(config, day)
        for name, table in simulated.raw_tables().items():
            table = table.append_column("date", pa.array([day] * table.num_rows, pa.date32()))
            conn.register("landed", table)
            verb = f"create table raw.{name} as" if n == 0 else f"insert into raw.{name}"
            conn.execute(f"{verb} select * from landed")
            conn.unregister("landed")
        if n:
            truth.append((day, simulated.truth["sensor_anomalies"].to_pylist()))
    # The wearing machine's sensor deviates for real (the planted degradation): its events are not false.
    wear = config.effects.degradation
    worn_sensor = f"{wear.machine}.{wear.sensor}" if wear else None
    clock = FactoryClock(config.timezone, config.day_start_hour)
    found, planted, false_alarms, events_total, delays, worn = {}, {}, 0, 0, [], 0
    false_kinds: dict[str, int] = {}
    for day, rows in truth:
        events = detect_day(conn, day.isoformat(), clock)
        planted_rows = [
            {
                **r,
                "start_us": int(r["start_ts"].timestamp() * 1e6),
                "end_us": int(r["end_ts"].timestamp() * 1e6),
            }
            for r in rows
        ]
        matches, unmatched = match_events(planted_rows, events, slack_us=int(120e6))
        worn += sum(1 for e in unmatched if e.sensor_id == worn_sensor)
        for e in unmatched:
            if e.sensor_id != worn_sensor:
                false_kinds[e.kind] = false_kinds.get(e.kind, 0) + 1
        false_alarms += sum(1 for e in unmatched if e.sensor_id != worn_sensor)
        events_total += len(events)
        for m in matches:
            planted[m.kind] = planted.get(m.kind, 0) + 1
            found[m.kind] = found.get(m.kind, 0) + int(m.found)
            if m.found and m.kind != "gap":
                delays.append(m.delay_s)
    print(f"Simulator (test_small plant at 60 s sampling, {days} judged days, baseline: the day before):")
    for kind in sorted(planted):
        print(f"  {kind:12s} found {found[kind]}/{planted[kind]}")
    recall = sum(found.values()) / max(1, sum(planted.values()))
    precision = (events_total - false_alarms) / max(1, events_total)
    print(
        f"  events {events_total}: {events_total - false_alarms - worn} on a planted fault, "
        f"{worn} on the wearing "
        f"{worn_sensor} (planted degradation), {false_alarms} false ({false_kinds})"
    )
    print(
        f"  event precision {precision:.2f} "
        f"({(events_total - false_alarms - worn) / max(1, events_total):.2f} "
        f"counting the wear as false), planted faults found {recall:.2f}, "
        f"median delay {np.median(delays) if delays else float('nan'):.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skab", type=Path, default=ROOT.parent / "shared" / "data" / "anomaly" / "skab")
    parser.add_argument("--days", type=int, default=6)
    args = parser.parse_args()
    skab(args.skab)
    simulator(args.days)


if __name__ == "__main__":
    main()
