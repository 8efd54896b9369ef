"""How fast one factory day simulates, and how much memory a 1,000-sensor 1 Hz day takes to land.

    python benchmarks/simulate_day.py [--scenario data/scenarios/default.yaml] [--skip-telemetry]

Prints, for the scenario: seconds per day and simulated production events per second (each repeat simulates
the next day). Then one day of the same plant with about 1,000 sensors sampled at 1 Hz (the configured
sensors copied per machine, ``sensor_interval_s: 1``, as scenario overrides), landed as Parquet twice, each
in a fresh process so that peak RSS is the run's own: streamed record batch by record batch (as the platform
lands it), and, as the peer, the whole table built in memory and written with ``pyarrow.parquet.write_table``.
The ratio of the two peaks is what streaming saves.
"""

from __future__ import annotations

import argparse
import math
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from orchestration.lake.writer import write_partition  # noqa: E402
from orchestration.simulator import load_scenario  # noqa: E402
from orchestration.simulator.config import FactoryConfig  # noqa: E402
from orchestration.simulator.engine import run_factory_day  # noqa: E402


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
    # The wearing machine's sensor is copied too: point the effect at the first copy.
    effects = config.effects
    if effects.degradation is not None:
        effects = effects.model_copy(
            update={
                "degradation": effects.degradation.model_copy(
                    update={"sensor": f"{effects.degradation.sensor}_0"}
                )
            }
        )
    return config.model_copy(update={"route": route, "sensor_interval_s": interval_s, "effects": effects})


def land_telemetry(scenario: Path, day: date, sensors: int, how: str) -> None:
    """Child process: simulate the 1 Hz day and land its readings; prints seconds, rows and peak RSS."""
    config = with_sensors(load_scenario(scenario), sensors, 1.0)
    began = time.perf_counter()
    simulated = run_factory_day(config, day)
    with tempfile.TemporaryDirectory() as lake:
        if how == "streamed":
            rows = write_partition(
                Path(lake), "sensor_readings", day.isoformat(), simulated.telemetry.batches()
            )
        else:  # the peer: everything in memory first
            table = pa.Table.from_batches(list(simulated.telemetry.batches()))
            pq.write_table(table, Path(lake) / "readings.parquet", compression="zstd")
            rows = table.num_rows
    seconds = time.perf_counter() - began
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"{seconds:.2f} {rows} {simulated.telemetry.sensor_count} {rss_mib:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=Path("data/scenarios/default.yaml"))
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 11, 9))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sensors", type=int, default=1000, help="sensors of the telemetry day")
    parser.add_argument("--skip-telemetry", action="store_true", help="skip the 1 Hz telemetry day")
    parser.add_argument("--land", choices=["streamed", "in-memory"], help=argparse.SUPPRESS)  # child process
    args = parser.parse_args()
    if args.land:
        land_telemetry(args.scenario, args.day, args.sensors, args.land)
        return

    config = load_scenario(args.scenario)
    for repeat in range(args.repeats):
        day = args.day + timedelta(days=repeat)
        began = time.perf_counter()
        tables = run_factory_day(config, day).raw_tables()
        seconds = time.perf_counter() - began
        events = tables["production_events"].num_rows
        rows = ", ".join(f"{name} {table.num_rows}" for name, table in tables.items())
        print(f"default day {day}: {seconds:.3f} s/day, {events / seconds:,.0f} events/s; {rows}")

    if args.skip_telemetry:
        return
    peaks = {}
    for how in ("streamed", "in-memory"):
        command = [sys.executable, __file__, "--scenario", str(args.scenario), "--day", args.day.isoformat()]
        command += ["--sensors", str(args.sensors), "--land", how]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()
        seconds, rows, sensors, peaks[how] = float(out[0]), int(out[1]), int(out[2]), float(out[3])
        print(
            f"telemetry day landed {how}: {sensors} sensors at 1 Hz, {rows:,} readings in {seconds:.1f} s "
            f"({rows / seconds:,.0f} readings/s), peak RSS {peaks[how]:.0f} MiB"
        )
    print(f"peak memory, streamed / in-memory peer: {peaks['streamed'] / peaks['in-memory']:.2f}")


if __name__ == "__main__":
    main()
