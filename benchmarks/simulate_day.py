"""How fast one factory day simulates: seconds per day and simulated production events per second.

    python benchmarks/simulate_day.py [--scenario data/scenarios/default.yaml] [--sensors 3] [--rate 2]

--sensors multiplies the sensors per machine (copies of the configured ones); --rate multiplies the batches
released a day, with the machines scaled alike so the plant keeps up. Each repeat simulates the next day.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orchestration.simulator import load_scenario, simulate_factory_day  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=Path("data/scenarios/default.yaml"))
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 11, 9))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sensors", type=int, default=1, help="multiply the sensors per machine")
    parser.add_argument(
        "--rate", type=float, default=1.0, help="multiply the plant's scale (batches and machines)"
    )
    args = parser.parse_args()

    config = load_scenario(args.scenario)
    if args.sensors > 1:
        route = {
            activity: step.model_copy(
                update={
                    "sensors": {f"{n}_{k}": s for k, s in step.sensors.items() for n in range(args.sensors)}
                }
            )
            for activity, step in config.route.items()
        }
        config = config.model_copy(update={"route": route})
    if args.rate != 1.0:
        config = config.model_copy(update={"scale": config.scale * args.rate})

    for repeat in range(args.repeats):
        began = time.perf_counter()
        tables = simulate_factory_day(config, args.day + timedelta(days=repeat))
        seconds = time.perf_counter() - began
        events = tables["production_events"].num_rows
        rows = ", ".join(f"{name} {table.num_rows}" for name, table in tables.items())
        print(f"{seconds:.3f} s/day, {events / seconds:,.0f} events/s; {rows}")


if __name__ == "__main__":
    main()
