"""The live scoring over several factory days, in this process: a check on days kept aside.

Each day is judged as the alerting process judges it (orchestration/alerting/live.py), against the reference
fitted from the three factory days before it in a lake (reference.py), which this script lands first as the
daily extraction lands them. Each day on a fresh evaluator, as ``alert_latency.py`` replays one. The
machine states go on across midnight (the simulator is one continuous run), but each day's telemetry is drawn
on its own, so slow sensors jump at the day's start. Printed per day: the planted critical faults (as
``alert_latency.py`` defines them) alerted and the plant time the scoring needed to be sure (``decided_at``
minus the fault's start); every alert matching no planted sensor fault, by shift, with the planted effect it
falls on, if any (the wearing machine, the bad shift's room).

    .venv/bin/python benchmarks/alert_days.py [--scenario data/scenarios/default.yaml]
        [--days 2026-11-12,2026-11-13,2026-11-14]

The live scoring was built on 2026-11-10; the default days here are the ones kept aside.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from orchestration.alerting.live import LiveEvaluator  # noqa: E402
from orchestration.alerting.reference import fit_reference  # noqa: E402
from orchestration.alerting.rules import load_rules  # noqa: E402
from orchestration.anomalies.plant import HISTORY_DAYS  # noqa: E402
from orchestration.anomalies.sensor_alarms import AlarmRules  # noqa: E402
from orchestration.ingestion.feed import telemetry_instants  # noqa: E402
from orchestration.lake.writer import write_partition  # noqa: E402
from orchestration.simulator.config import load_scenario  # noqa: E402
from orchestration.simulator.engine import run_factory_day  # noqa: E402
from orchestration.simulator.shifts import scenario_calendar  # noqa: E402

KEPT_ASIDE = "2026-11-12,2026-11-13,2026-11-14"


def land(lake: Path, day: date, raw: dict) -> None:
    for table in ("sensor_readings", "machine_states"):
        write_partition(lake, table, day.isoformat(), raw[table])


def judge(config, day: date, lake: Path, calendar) -> tuple[list, dict, dict]:
    """The day's active signals, its truth tables and its raw tables."""
    evaluator = LiveEvaluator(load_rules(), fit_reference(lake, day, calendar))
    simulated = run_factory_day(config, day)
    raw = simulated.raw_tables()
    raised = []
    for ts_us, by_group in telemetry_instants(raw["sensor_readings"].to_batches()):
        readings = [
            (r["sensor_id"], r["machine_id"], r["measure"], r["unit"], ts_us, r["value"])
            for group in by_group.values()
            for r in group
        ]
        raised += [s for s in evaluator.add(readings) + evaluator.silence() if s.active]
    return raised, simulated.truth, raw


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default=str(REPO / "data" / "scenarios" / "default.yaml"))
    parser.add_argument("--days", default=KEPT_ASIDE, help="factory days, comma-separated")
    args = parser.parse_args()
    config = load_scenario(Path(args.scenario))
    calendar = scenario_calendar(config)
    days = [date.fromisoformat(d) for d in args.days.split(",")]
    alarm_rules = AlarmRules()
    sustained = timedelta(seconds=alarm_rules.sustained_readings * config.sensor_interval_s)
    critical_gap = timedelta(seconds=alarm_rules.critical_gap_s)
    wearing = config.effects.degradation.machine if config.effects.degradation else None
    lake = Path(tempfile.mkdtemp(prefix="alert-days-")) / "lake"
    landed: set[date] = set()
    totals = Counter()
    for day in days:
        for back in range(HISTORY_DAYS, 0, -1):
            before = day - timedelta(days=back)
            if before not in landed:
                land(lake, before, run_factory_day(config, before).raw_tables())
                landed.add(before)
        raised, truth, raw = judge(config, day, lake, calendar)
        faults: dict[str, dict] = {}
        for row in truth["sensor_anomalies"].to_pylist():
            faults.setdefault(row["anomaly_id"], {**row, "sensors": []})["sensors"].append(row["sensor_id"])
        matched, needed, missed = set(), [], []
        for fault in faults.values():
            hits = [
                s
                for s in raised
                if s.machine_id == fault["machine_id"]
                and fault["start_ts"] - timedelta(minutes=2) <= s.at <= fault["end_ts"] + timedelta(minutes=5)
            ]
            matched.update(id(s) for s in hits)
            length = fault["end_ts"] - fault["start_ts"]
            critical = (fault["kind"] == "level_shift" and length >= sustained) or (
                fault["kind"] == "gap" and length >= critical_gap
            )
            if critical and hits:
                needed.append(min((s.decided_at - fault["start_ts"]).total_seconds() / 60 for s in hits))
            elif critical:
                missed.append(f"{fault['kind']} {fault['sensors'][0]} {fault['start_ts']:%H:%M}")
        bad_shift = [e for e in truth["planted_effects"].to_pylist() if e["effect"] == "bad_shift"]
        room = config.effects.bad_shift.room if config.effects.bad_shift else None
        unmatched = Counter()
        for signal in (s for s in raised if id(s) not in matched):
            if signal.machine_id == wearing:
                on = "wearing machine"
            elif bad_shift and signal.machine_id == room:
                on = "bad-shift room"
            else:
                on = "nothing planted"
            slot = next(
                name
                for name in (s.name for s in calendar.shifts)
                if calendar.shift_window(calendar.day_of(signal.at), name)[0]
                <= signal.at
                < calendar.shift_window(calendar.day_of(signal.at), name)[1]
            )
            unmatched[(on, slot)] += 1
            print(f"    {signal.at:%H:%M} [{on}] {signal.sentence[:100]}")
        print(
            f"{day}: critical planted faults alerted {len(needed)} of {len(needed) + len(missed)}"
            f"{' (missed: ' + '; '.join(missed) + ')' if missed else ''}; minutes to be sure: "
            f"{sorted(round(m, 1) for m in needed)}; other alerts: {dict(unmatched)}"
        )
        totals.update(alerted=len(needed), critical=len(needed) + len(missed))
        for (on, _), n in unmatched.items():
            totals[on] += n
        totals["at 2 min or less"] += sum(1 for m in needed if m <= 2.0)
        land(lake, day, raw)  # the next day's reference
        landed.add(day)
    print(
        f"all days: {totals['alerted']} of {totals['critical']} critical faults alerted "
        f"({totals['at 2 min or less']} within 2 min); other alerts on nothing planted: "
        f"{totals['nothing planted']}, on the wearing machine: {totals['wearing machine']}, on the bad "
        f"shift's room: {totals['bad-shift room']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
