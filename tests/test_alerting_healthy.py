"""The live scoring against the lake's reference days, on the tiny plant: every planted level shift that
holds is alerted from its start, and the healthy plant (nothing planted) alerts no team more than once a
shift. The days are landed as the daily extraction lands them and judged as the alerting process judges
them: each factory day against the three before it, one evaluator going on from day to day (the full plant
is measured by ``benchmarks/alert_latency.py``)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from orchestration.alerting.live import LiveEvaluator
from orchestration.alerting.manager import AlertManager
from orchestration.alerting.reference import fit_reference
from orchestration.alerting.rules import load_rules
from orchestration.alerting.store import connect
from orchestration.ingestion.feed import telemetry_instants
from orchestration.lake.writer import write_partition
from orchestration.settings import DATA_DIR
from orchestration.simulator.config import load_scenario
from orchestration.simulator.engine import run_factory_day
from orchestration.simulator.shifts import scenario_calendar

HEALTHY = DATA_DIR / "scenarios" / "test_small_healthy.yaml"
PLANTED = DATA_DIR / "scenarios" / "test_small.yaml"
MONDAY = date(2026, 11, 9)


def land(lake: Path, day: date, raw: dict) -> None:
    for table in ("sensor_readings", "machine_states"):
        write_partition(lake, table, day.isoformat(), raw[table])


def judge(lake: Path, scenario: Path, days: list[date], manager: AlertManager | None = None) -> list:
    """The days replayed through the live scoring, each against the days before it; the signals raised."""
    config = load_scenario(scenario)
    for back in (1, 2, 3):
        before = days[0] - timedelta(days=back)
        land(lake, before, run_factory_day(config, before).raw_tables())
    evaluator, raised = LiveEvaluator(load_rules()), []
    calendar = scenario_calendar(config)
    for day in days:
        evaluator.use(fit_reference(lake, day, calendar))
        raw = run_factory_day(config, day).raw_tables()
        for ts_us, by_group in telemetry_instants(raw["sensor_readings"].to_batches()):
            readings = [
                (r["sensor_id"], r["machine_id"], r["measure"], r["unit"], ts_us, r["value"])
                for group in by_group.values()
                for r in group
            ]
            signals = evaluator.add(readings) + evaluator.silence()
            raised += [s for s in signals if s.active]
            if manager is not None:
                manager.observe(signals)
        land(lake, day, raw)
    assert len(evaluator.sensors) > 30 and evaluator.readings > 30 * 250 * len(days)  # every sensor judged
    return raised


def test_the_healthy_plant_alerts_no_team_more_than_once_a_shift(tmp_path: Path):
    manager = AlertManager(tmp_path / "state.duckdb", load_rules())
    days = [MONDAY + timedelta(days=3), MONDAY + timedelta(days=4)]
    judge(tmp_path / "lake", HEALTHY, days, manager)
    calendar = scenario_calendar(load_scenario(HEALTHY))
    with connect(tmp_path / "state.duckdb") as conn:
        raised = conn.execute("select team, raised_at from alerts.alerts").fetchall()
    per_shift = Counter()
    for team, raised_at in raised:
        day = calendar.day_of(raised_at)
        windows = {slot.name: calendar.shift_window(day, slot.name) for slot in calendar.shifts}
        shift = next(name for name, (start, end) in windows.items() if start <= raised_at < end)
        per_shift[(team, day, shift)] += 1
    print(f"healthy tiny plant, alerts per team and shift: {dict(per_shift)}")
    assert all(n <= 1 for n in per_shift.values()), per_shift


def test_every_planted_level_shift_that_holds_is_alerted_from_its_start(tmp_path: Path):
    day = MONDAY + timedelta(days=1)
    raised = judge(tmp_path / "lake", PLANTED, [day])
    config = load_scenario(PLANTED)
    truth = run_factory_day(config, day).truth["sensor_anomalies"].to_pylist()
    on_delay = timedelta(seconds=load_rules().live.on_delay_readings * config.sensor_interval_s)
    held = [f for f in truth if f["kind"] == "level_shift" and f["end_ts"] - f["start_ts"] >= 2 * on_delay]
    assert len(held) >= 3, "the tiny plant's day plants level shifts that hold"
    for fault in held:
        alerts = [
            s
            for s in raised
            if s.signal == "sensor_anomaly"
            and s.subject == fault["sensor_id"]
            and fault["start_ts"] <= s.at <= fault["start_ts"] + on_delay
        ]
        assert alerts, f"{fault['sensor_id']} at {fault['start_ts']:%H:%M} not alerted from its start"
    planted = {f["machine_id"] for f in truth} | {config.effects.degradation.machine}
    off_truth = [s.sentence for s in raised if s.machine_id not in planted]
    print(f"{len(raised)} alerts, {len(off_truth)} on machines with nothing planted: {off_truth}")
    assert len(off_truth) <= 1, off_truth
