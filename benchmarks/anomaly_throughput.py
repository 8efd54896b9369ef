"""Throughput of the sensor detectors: 24 hours of 1,000 sensors at 1 Hz (86.4 million readings) scored
at once.

    .venv/bin/python benchmarks/anomaly_throughput.py [--sensors 1000] [--hours 24] [--peer-sensors 50]

The plant's requirement is under 2 minutes on a 2-core machine (goal 30 s). The baseline is fitted on a
separate hour of the same sensors (timed apart). The peer is a plain pandas rolling median (5 readings,
centred) per sensor, the usual first try, on a subset of the sensors in the same process; the ratio compares
readings per second.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from orchestration.anomalies.detectors import SensorGrid
from orchestration.anomalies.scoring import detect, fit_detectors


def synthetic(n_sensors: int, n_times: int, seed: int, faults: bool = True) -> SensorGrid:
    """Levels and noise per sensor, 10 machines' worth of sensors per group, a few planted faults."""
    plant = np.random.default_rng(0)  # the same sensors in the reference and the judged day
    level = plant.uniform(10, 1000, n_sensors)[:, None]
    noise = plant.uniform(0.1, 5, n_sensors)[:, None]
    rng = np.random.default_rng(seed)
    values = level + noise * rng.standard_normal((n_sensors, n_times))
    for row in rng.choice(
        n_sensors, size=n_sensors // 20 if faults else 0, replace=False
    ):  # spikes, shifts, gaps
        at = int(rng.integers(600, n_times - 4000))
        values[row, at] += 10 * noise[row, 0]
        values[row, at + 1000 : at + 2200] += 8 * noise[row, 0]
        values[row, at + 3000 : at + 3300] = np.nan
    return SensorGrid(
        sensor_ids=[f"S{n:04d}" for n in range(n_sensors)],
        machine_ids=[f"M{n // 4:03d}" for n in range(n_sensors)],
        start_us=1_700_000_000_000_000,
        interval_us=1_000_000,
        values=values,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sensors", type=int, default=1000)
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--peer-sensors", type=int, default=50)
    args = parser.parse_args()
    n_times = int(args.hours * 3600)
    readings = args.sensors * n_times
    reference = synthetic(args.sensors, 3600, seed=1, faults=False)
    grid = synthetic(args.sensors, n_times, seed=2)
    t0 = time.perf_counter()
    detectors = fit_detectors(reference)
    t1 = time.perf_counter()
    scored = detect(grid, detectors)
    t2 = time.perf_counter()
    rate = readings / (t2 - t1)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"{args.sensors} sensors x {n_times} s at 1 Hz = {readings:,} readings")
    print(f"baseline fit on one hour: {t1 - t0:.1f} s; scoring: {t2 - t1:.1f} s = {rate:,.0f} readings/s")
    print(f"events: {len(scored.events)}; peak memory (max RSS): {peak_gb:.2f} GB")
    subset = grid.values[: args.peer_sensors]
    t3 = time.perf_counter()
    for row in subset:
        series = pd.Series(row)
        residual = series - series.rolling(5, center=True, min_periods=1).median()
        _ = residual.abs() > 6 * residual.abs().median() * 1.4826
    t4 = time.perf_counter()
    peer_rate = subset.size / (t4 - t3)
    print(
        f"peer (pandas rolling median per sensor, {args.peer_sensors} sensors): {peer_rate:,.0f} readings/s"
    )
    print(
        f"ratio: the detectors score {rate / peer_rate:.2f}x the peer's readings/s (all detectors vs its one)"
    )


if __name__ == "__main__":
    main()
