"""Planted effects and their ground truth: what the truth tables say is exactly what the raw data shows.

Sensor faults are drawn from their own random stream, so the same day simulated without them gives the same
readings everywhere else: the difference between the two is the planted fault and nothing more.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from orchestration.simulator import load_scenario
from orchestration.simulator.engine import run_factory_day

REPO = Path(__file__).resolve().parent.parent
SMALL = REPO / "data" / "scenarios" / "test_small.yaml"
DAY = date(2026, 11, 10)


def scenario(tmp_path: Path, overrides: dict, name: str = "scenario.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"base": str(SMALL), **overrides}))
    return load_scenario(path)


def readings_by_sensor(table: pa.Table) -> dict[str, dict]:
    by_sensor: dict[str, dict] = {}
    for sensor, ts, value in zip(
        *(table[c].to_pylist() for c in ("sensor_id", "reading_ts", "value")), strict=True
    ):
        by_sensor.setdefault(sensor, {})[ts] = value
    return by_sensor


@pytest.mark.parametrize("kind", ["spike", "drift", "level_shift", "stuck"])
def test_each_planted_sensor_fault_shows_exactly_in_its_truth_window(tmp_path, kind):
    faulty = {"sensor_anomalies": {"per_day": 4, "kinds": [kind]}, "sensor_gaps": {"per_day": 1}}
    clean = {"sensor_anomalies": {"per_day": 0}, "sensor_gaps": {"per_day": 0}}
    with_faults = run_factory_day(scenario(tmp_path, {"effects": faulty}, "faulty.yaml"), DAY)
    without = run_factory_day(scenario(tmp_path, {"effects": clean}, "clean.yaml"), DAY)
    assert without.truth["sensor_anomalies"].num_rows == 0
    truth = with_faults.truth["sensor_anomalies"].to_pylist()
    assert {t["kind"] for t in truth} == {kind, "gap"}
    seen = readings_by_sensor(with_faults.raw_tables()["sensor_readings"])
    base = readings_by_sensor(without.raw_tables()["sensor_readings"])

    planted = {t["sensor_id"]: t for t in truth}
    for sensor, values in base.items():
        fault = planted.get(sensor)
        for ts, value in values.items():
            inside = fault is not None and fault["start_ts"] <= ts < fault["end_ts"]
            if not inside:
                assert seen[sensor][ts] == value, (sensor, ts)
            elif fault["kind"] == "gap":
                assert ts not in seen[sensor]
            elif fault["kind"] in ("spike", "level_shift"):
                assert seen[sensor][ts] - value == pytest.approx(fault["magnitude"], abs=2e-4)
        if fault is None or fault["kind"] == "gap":
            continue
        window = sorted(ts for ts in values if fault["start_ts"] <= ts < fault["end_ts"])
        assert window, fault
        if fault["kind"] == "drift":  # a ramp ending at the magnitude
            offsets = [seen[sensor][ts] - values[ts] for ts in window]
            assert offsets[-1] == pytest.approx(fault["magnitude"], abs=2e-4)
            assert all(abs(a) <= abs(b) + 2e-4 for a, b in zip(offsets, offsets[1:], strict=False))
        if fault["kind"] == "stuck":  # one value repeated for the whole window
            assert len({seen[sensor][ts] for ts in window}) == 1
    magnitudes = [t["magnitude"] for t in truth if t["kind"] in ("spike", "level_shift", "drift")]
    assert all(abs(m) > 0 for m in magnitudes)


def test_a_wearing_machine_vibrates_more_each_day_fails_and_starts_afresh():
    """test_small: CAL-01 wears from 2026-11-03 for 12 days (vibration +2.5 mm/s when worn), fails on 15."""
    config = load_scenario(SMALL)
    spec = config.effects.degradation

    def producing_vibration(day: date) -> tuple[float, int]:
        simulated = run_factory_day(config, day)
        tables = simulated.raw_tables()
        states = [s for s in tables["machine_states"].to_pylist() if s["machine_id"] == spec.machine]
        planted = [
            a for a in simulated.truth["sensor_anomalies"].to_pylist() if a["machine_id"] == spec.machine
        ]
        values = [
            r["value"]
            for r in tables["sensor_readings"].to_pylist()
            if r["sensor_id"] == f"{spec.machine}.vibration"
            and not any(a["start_ts"] <= r["reading_ts"] < a["end_ts"] for a in planted)
            # a reading settled in production: the state it falls in is producing
            and any(
                s["state"] == "producing" and s["start_ts"] <= r["reading_ts"] < s["end_ts"] for s in states
            )
        ]
        micro_stops = sum(s["state"] == "micro_stop" for s in states)
        return sum(values) / len(values), micro_stops

    fresh, fresh_stops = producing_vibration(date(2026, 11, 3))
    worn, worn_stops = producing_vibration(date(2026, 11, 14))
    assert worn - fresh == pytest.approx(spec.sensor_rise * 11 / 12, abs=0.25)
    assert worn_stops > 1.5 * fresh_stops

    failure_day = run_factory_day(config, date(2026, 11, 15))
    failures = [e for e in failure_day.truth["planted_effects"].to_pylist() if e["effect"] == "wear_failure"]
    assert [f["target_id"] for f in failures] == [spec.machine]
    breakdowns = [
        s
        for s in failure_day.tables["machine_states"].to_pylist()
        if s["machine_id"] == spec.machine and s["state"] == "breakdown"
    ]
    # The failure strikes when the running batch is done: within the hour after the planned instant.
    longest = max(breakdowns, key=lambda s: s["end_ts"] - s["start_ts"])
    assert timedelta(0) <= longest["start_ts"] - failures[0]["start_ts"] <= timedelta(hours=1)
    assert longest["end_ts"] - longest["start_ts"] >= timedelta(hours=spec.repair_h) - timedelta(seconds=1)
    renewed, _ = producing_vibration(date(2026, 11, 16))
    assert renewed - fresh == pytest.approx(spec.sensor_rise * 1 / 12, abs=0.25)


def test_the_truth_names_a_slowed_step_as_the_bottleneck(tmp_path):
    slow = scenario(tmp_path, {"route": {"Calendering": {"planned_runtime_per_unit_s": 6.0}}})
    truth = run_factory_day(slow, DAY).truth["planted_effects"].to_pylist()
    bottleneck = [e for e in truth if e["effect"] == "bottleneck"]
    assert [b["target_id"] for b in bottleneck] == ["Calendering"]
    assert bottleneck[0]["magnitude"] > 60  # minutes batches queued for it on average


def test_the_bad_shift_truth_is_friday_late_shift_in_the_coating_room():
    config = load_scenario(SMALL)
    friday = run_factory_day(config, date(2026, 11, 13))
    thursday = run_factory_day(config, date(2026, 11, 12))
    rows = [e for e in friday.truth["planted_effects"].to_pylist() if e["effect"] == "bad_shift"]
    late = next(s for s in friday.tables["shifts"].to_pylist() if s["shift_name"] == "late")
    assert [(r["target_id"], r["start_ts"], r["end_ts"], r["magnitude"]) for r in rows] == [
        ("ROOM-COATING", late["start_ts"], late["end_ts"], 5.0)
    ]
    assert "bad_shift" not in thursday.truth["planted_effects"]["effect"].to_pylist()


def test_economics_land_as_master_data(tmp_path):
    config = scenario(tmp_path, {"products": {"NMC811-PC60": {"selling_price_per_cell": 25.0}}})
    tables = run_factory_day(config, DAY).tables
    products = {p["product_id"]: p for p in tables["products"].to_pylist()}
    assert products["NMC811-PC60"]["selling_price_per_cell"] == 25.0
    assert products["NMC811-PC72"]["material_cost_per_cell"] == 17.30
    assert {p["currency"] for p in products.values()} == {"EUR"}
    machines = {m["machine_id"]: m for m in tables["machines"].to_pylist()}
    assert machines["COAT-01"]["conversion_cost_per_hour"] == 650
    assert machines["SLIT-01"]["conversion_cost_per_hour"] == 180  # the plant's default
    per_step = {m["activity"]: m["material_cost_share"] for m in machines.values()}
    assert sum(per_step.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"effects": {"degradation": {"machine": "CAL-09"}}}, "effects.degradation.machine"),
        ({"effects": {"degradation": {"sensor": "smell"}}}, "effects.degradation.sensor"),
        ({"route": {"Mixing": {"material_cost_share": 0.9}}}, "material_cost_share must add up to 1"),
        ({"effects": {"sensor_anomalies": {"kinds": ["wobble"]}}}, "effects.sensor_anomalies.kinds"),
    ],
)
def test_a_bad_effect_or_economics_setting_names_the_field(tmp_path, overrides, message):
    with pytest.raises(ValueError, match="broken.yaml") as raised:
        scenario(tmp_path, overrides, "broken.yaml")
    assert message in str(raised.value)
