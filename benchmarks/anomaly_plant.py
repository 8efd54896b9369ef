"""Sensor alarms on the simulated plant: planted faults found, and false alarms on a plant with none.

    .venv/bin/python benchmarks/anomaly_plant.py [--days 7] [--scenario default|healthy|both]

The default scenario plants sensor faults every day (spikes, drifts, level shifts, stuck values, gaps) and a
wearing calender; the healthy scenario (data/scenarios/healthy.yaml) plants nothing, so every alarm it raises
is false. Each judged day is scored against the days before as its reference (the platform's default), at the
scenario's own sampling interval. Prints per day the alarms by priority, and for the default scenario the
recall per planted kind and the share of alarms that overlap a planted fault or the wearing machine.
Thresholds are the detectors' and alarm rules' defaults: nothing here is tuned.
"""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.anomalies.evaluation import match_events
from orchestration.anomalies.plant import EXCLUDED_STATES, HISTORY_DAYS, detect_day, sensor_alarms
from orchestration.anomalies.sensor_alarms import occurrence_spans
from orchestration.factory_calendar import FactoryCalendar
from orchestration.simulator import load_scenario
from orchestration.simulator.engine import run_factory_day

ROOT = Path(__file__).resolve().parent.parent
FIRST_DAY = date(2026, 11, 9)


def land(conn, config, day: date, first: bool):
    simulated = run_factory_day(config, day)
    for name, table in simulated.raw_tables().items():
        table = table.append_column("date", pa.array([day] * table.num_rows, pa.date32()))
        conn.register("landed", table)
        verb = f"create table raw.{name} as" if first else f"insert into raw.{name}"
        conn.execute(f"{verb} select * from landed")
        conn.unregister("landed")
    return simulated.truth


def _inside_excluded_context(conn, fault: dict) -> bool:
    """Whether a planted fault lies wholly inside a stretch its machine was out of service."""
    covered = conn.execute(
        f"""select count(*) from raw.machine_states
            where machine_id = $machine and state in {EXCLUDED_STATES}
              and start_ts <= make_timestamptz($start) and end_ts >= make_timestamptz($end)""",
        {"machine": fault["machine_id"], "start": fault["start_us"], "end": fault["end_us"]},
    ).fetchall()
    return covered[0][0] > 0


def run(scenario: str, days: int, history_days: int, first_day: date = FIRST_DAY) -> dict:
    config = load_scenario(ROOT / "data" / "scenarios" / f"{scenario}.yaml")
    clock = FactoryCalendar(config.timezone, config.day_start_hour)
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("create schema raw")
    for n in range(history_days, 0, -1):
        land(conn, config, first_day - timedelta(days=n), first=n == history_days)
    wear = config.effects.degradation
    worn_machine = wear.machine if wear else None
    planted, found, not_judged = Counter(), Counter(), Counter()
    alarms_total, explained = 0, 0
    print(f"{config.name}: {days} judged days from {first_day}, reference the {history_days} days before")
    for n in range(days):
        day = first_day + timedelta(days=n)
        truth = land(conn, config, day, first=False)
        events = detect_day(conn, day.isoformat(), clock, history_days)
        alarms = sensor_alarms(conn, day.isoformat(), events, clock)
        faults = [
            {
                **t,
                "start_us": int(t["start_ts"].timestamp() * 1e6),
                "end_us": int(t["end_ts"].timestamp() * 1e6),
            }
            for t in truth["sensor_anomalies"].to_pylist()
        ]
        matches, _ = match_events(faults, events, slack_us=int(120e6))
        for m, fault in zip(matches, faults, strict=True):
            if not m.found and _inside_excluded_context(conn, fault):
                not_judged[m.kind] += 1  # planted where the platform judges nothing by design
                continue
            planted[m.kind] += 1
            found[m.kind] += int(m.found)
        slack = int(120e6)
        # The planted bad shift warms its room: an alarm on the room in that shift is a planted fault too.
        faults += [
            {
                "machine_id": t["target_id"],
                "start_us": int(t["start_ts"].timestamp() * 1e6),
                "end_us": int(t["end_ts"].timestamp() * 1e6),
            }
            for t in truth["planted_effects"].to_pylist()
            if t["effect"] == "bad_shift"
        ]
        on_fault = [
            a
            for a in alarms
            if a.machine_id == worn_machine
            or any(
                f["machine_id"] == a.machine_id
                and start < f["end_us"] + slack
                and end > f["start_us"] - slack
                for f in faults
                for start, end in occurrence_spans(a)  # a repeating alarm: each time it came back
            )
        ]
        alarms_total += len(alarms)
        explained += len(on_fault)
        by_priority = Counter(a.priority for a in alarms)
        print(
            f"  {day}  alarms {len(alarms):3d}  critical {by_priority['critical']:2d}"
            f"  high {by_priority['high']:2d}"
            f"  low {by_priority['low']:2d}  on a planted fault or the wearing machine {len(on_fault):3d}"
            f"  (events {len(events)})"
        )
        for a in alarms:
            if a not in on_fault:
                print(f"      unexplained [{a.priority}] {a.sentence}")
    if planted:
        print(
            "  recall per planted kind: " + ", ".join(f"{k} {found[k]}/{planted[k]}" for k in sorted(planted))
        )
    if not_judged:
        print(
            "  missed, planted wholly inside a changeover, planned maintenance or breakdown"
            " (never judged, by design): " + ", ".join(f"{k} {n}" for k, n in sorted(not_judged.items()))
        )
    print(
        f"  alarms {alarms_total} ({alarms_total / days:.1f} a day), "
        f"{explained / max(1, alarms_total):.0%} on a planted fault or the wearing machine"
    )
    return {"planted": planted, "found": found, "alarms": alarms_total, "explained": explained}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument(
        "--first",
        type=date.fromisoformat,
        default=FIRST_DAY,
        help="first judged day (another week: a held-out check)",
    )
    parser.add_argument("--history-days", type=int, default=HISTORY_DAYS)
    parser.add_argument("--scenario", choices=["default", "healthy", "both"], default="both")
    args = parser.parse_args()
    for scenario in ("default", "healthy") if args.scenario == "both" else (args.scenario,):
        run(scenario, args.days, args.history_days, args.first)


if __name__ == "__main__":
    main()
