"""The healthy tiny plant (nothing planted) through the live scoring and the alarm manager: after the first
factory day, in which the scoring learns each sensor's noise and levels, no team gets more than one new alert
per shift. The first day is reported, not judged: a live scorer that starts cold meets each machine's first
stop once (docs/alerting.md; the full healthy plant is measured by ``benchmarks/alert_latency.py
--healthy``)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from orchestration.alerting.live import LiveEvaluator
from orchestration.alerting.manager import AlertManager
from orchestration.alerting.rules import load_rules
from orchestration.alerting.store import connect
from orchestration.ingestion.feed import simulated_telemetry
from orchestration.settings import DATA_DIR
from orchestration.simulator.config import load_scenario
from orchestration.simulator.shifts import scenario_calendar

HEALTHY = DATA_DIR / "scenarios" / "test_small_healthy.yaml"
DAYS = [date(2026, 11, 9), date(2026, 11, 10), date(2026, 11, 11)]


def test_after_its_first_day_the_healthy_plant_alerts_no_team_more_than_once_a_shift(tmp_path: Path):
    rules = load_rules()  # the committed rules and live settings
    evaluator, manager = LiveEvaluator(rules), AlertManager(tmp_path / "state.duckdb", rules)
    for day in DAYS:
        for ts_us, by_group in simulated_telemetry(HEALTHY, day):
            readings = [
                (r["sensor_id"], r["machine_id"], r["measure"], r["unit"], ts_us, r["value"])
                for group in by_group.values()
                for r in group
            ]
            manager.observe(evaluator.add(readings) + evaluator.silence())
    assert (
        len(evaluator.sensors) > 30 and evaluator.readings > 30 * 3 * 250
    )  # every sensor, every day, judged
    calendar = scenario_calendar(load_scenario(HEALTHY))
    with connect(tmp_path / "state.duckdb") as conn:
        raised = conn.execute("select team, raised_at from alerts.alerts").fetchall()
    per_shift = Counter()
    for team, raised_at in raised:
        day = calendar.day_of(raised_at)
        shift = next(
            slot.name
            for slot in calendar.shifts
            if calendar.shift_window(day, slot.name)[0]
            <= raised_at
            < calendar.shift_window(day, slot.name)[1]
        )
        per_shift[(team, day, shift)] += 1
    first_day = {key: n for key, n in per_shift.items() if key[1] == DAYS[0]}
    after = {key: n for key, n in per_shift.items() if key[1] > DAYS[0]}
    print(f"healthy tiny plant, alerts per team and shift: first day {first_day}, after it {after}")
    assert all(n <= 1 for n in after.values()), after
