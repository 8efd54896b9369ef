"""How fast one factory day simulates: events/s and seconds per day, a 1,000-sensor 1 Hz day, peak memory.

    python benchmarks/simulate_day.py [--scenario data/scenarios/default.yaml] [--skip-telemetry]

Prints, for the scenario: seconds per day and simulated production events per second (each repeat simulates
the next day); then one day of the same plant with about 1,000 sensors sampled at 1 Hz (the configured sensors
copied per machine, ``sensor_interval_s: 1``, as scenario overrides); and the peak traced memory of each run
(tracemalloc: numpy and Arrow buffers allocated through Python's allocator; the process maximum RSS too).
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orchestration.simulator import load_scenario, simulate_factory_day  # noqa: E402
from orchestration.simulator.config import FactoryConfig  # noqa: E402


def with_sensors(config: FactoryConfig, target: int, interval_s: float) -> FactoryConfig:
    """The plant with its sensors copied per machine up to about ``target`` sensors."""
    per_machine = sum(config.machine_count(a) * len(s.sensors) for a, s in config.route.items())
    copies = max(1, math.ceil((target - 2 * len(config.rooms)) / max(per_machine, 1)))
    route = {
        activity: step.model_copy(
            update={"sensors": {f"{k}_{n}": s for k, s in step.sensors.items() for n in range(copies)}}
        )
        for activity, step in config.route.items()
    }
    return config.model_copy(update={"route": route, "sensor_interval_s": interval_s})


def run(config: FactoryConfig, day: date) -> tuple[float, dict, int]:
    tracemalloc.start()
    began = time.perf_counter()
    tables = simulate_factory_day(config, day)
    seconds = time.perf_counter() - began
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, tables, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=Path("data/scenarios/default.yaml"))
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 11, 9))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sensors", type=int, default=1000, help="sensors of the telemetry day")
    parser.add_argument("--skip-telemetry", action="store_true", help="skip the 1 Hz telemetry day")
    args = parser.parse_args()

    config = load_scenario(args.scenario)
    for repeat in range(args.repeats):
        seconds, tables, peak = run(config, args.day + timedelta(days=repeat))
        events = tables["production_events"].num_rows
        rows = ", ".join(f"{name} {table.num_rows}" for name, table in tables.items())
        print(
            f"default day: {seconds:.3f} s/day, {events / seconds:,.0f} events/s, "
            f"peak {peak / 2**20:.0f} MiB; {rows}"
        )

    if not args.skip_telemetry:
        heavy = with_sensors(config, args.sensors, 1.0)
        seconds, tables, peak = run(heavy, args.day)
        readings = tables["sensor_readings"]
        sensors = len(set(readings["sensor_id"].unique().to_pylist()))
        print(
            f"telemetry day: {sensors} sensors at 1 Hz, {readings.num_rows:,} readings in {seconds:.1f} s, "
            f"peak {peak / 2**20:.0f} MiB"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"process max RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
