"""Sensor events become alarms: one per machine and problem, ranked, worded, and only what needs a person."""

from __future__ import annotations

import re

import numpy as np
import pytest

from orchestration.anomalies.detectors import SensorGrid
from orchestration.anomalies.scoring import detect, fit_detectors
from orchestration.anomalies.sensor_alarms import AlarmRules, SensorInfo, group_events

MINUTE_US = 60_000_000
SENSORS = {
    "DRY-01.oven_temperature": SensorInfo("oven temperature", "degC"),
    "DRY-01.vacuum_pressure": SensorInfo("vacuum pressure", "mbar"),
    "MIX-01.vibration": SensorInfo("vibration", "mm/s"),
}


def _grid(values):
    return SensorGrid(
        sensor_ids=list(SENSORS),
        machine_ids=["DRY-01", "DRY-01", "MIX-01"],
        start_us=0,
        interval_us=MINUTE_US,
        values=np.asarray(values, dtype=float),
        regime=None,
        regime_names=("producing",),
    )


@pytest.fixture(scope="module")
def day():
    """A clean reference day and a judged day: the oven's two sensors shift together at 08:20 for an hour
    by 8 sigmas; the mixer's vibration moves by 2 sigmas for an hour at 16:40 (significant on a windowed
    mean, but inside its noise band on a trend)."""
    rng = np.random.default_rng(5)
    n = 1440
    reference = 50 + rng.standard_normal((3, n))
    judged = 50 + rng.standard_normal((3, n))
    judged[0, 500:560] += 8
    judged[1, 502:560] -= 8
    judged[2, 1000:1060] += 2
    events = detect(_grid(judged), fit_detectors(_grid(reference))).events
    return events, group_events(events, SENSORS, "UTC")


def test_simultaneous_events_of_one_machine_are_one_alarm(day):
    events, alarms = day
    oven = [a for a in alarms if a.machine_id == "DRY-01"]
    assert len(oven) == 1, [a.sentence for a in alarms]
    members = {m["sensor_id"] for m in oven[0].members}
    assert members == {"DRY-01.oven_temperature", "DRY-01.vacuum_pressure"}
    assert len(oven[0].members) < len([e for e in events if e.machine_id == "DRY-01"]) + 1


def test_the_alarm_is_ranked_and_says_what_moved_by_how_much_and_since_when(day):
    _, alarms = day
    oven = next(a for a in alarms if a.machine_id == "DRY-01")
    # Held an hour (past the 30 readings of a sustained deviation): high or critical, never low.
    assert oven.priority in ("high", "critical")
    assert "degC" in oven.sentence or "mbar" in oven.sentence
    since = re.search(r"since Thu (\d\d):(\d\d)", oven.sentence)  # epoch 0 was a Thursday
    assert since and abs(int(since[1]) * 60 + int(since[2]) - 500) <= 2, oven.sentence
    assert re.search(r"[78]\.\d+ (degC|mbar) (above|below) normal", oven.sentence), oven.sentence
    assert "sigmas" in oven.sentence
    assert "also" in oven.sentence  # the second sensor of the problem is named


def test_a_significant_but_small_level_change_is_an_event_not_an_alarm(day):
    events, alarms = day
    mixer_events = [e for e in events if e.machine_id == "MIX-01" and e.kind in ("level_shift", "drift")]
    assert mixer_events, "a 2-sigma shift held an hour is significant on the windowed mean"
    assert all(e.evidence["peak_shift_z"] < 3 for e in mixer_events)
    assert not [a for a in alarms if a.machine_id == "MIX-01"], [a.sentence for a in alarms]


def _spikes_grid(spike_at, heights):
    """One vibration sensor on a clean day, with spikes of the given heights (sigmas) at the given minutes."""
    rng = np.random.default_rng(11)
    reference, judged = (5 + 0.1 * rng.standard_normal((1, 1440)) for _ in range(2))
    for minute, height in zip(spike_at, heights, strict=True):
        judged[0, minute] += 0.1 * height
    grid = SensorGrid(["MIX-01.vibration"], ["MIX-01"], 0, MINUTE_US, judged)
    reference_grid = SensorGrid(["MIX-01.vibration"], ["MIX-01"], 0, MINUTE_US, reference)
    return detect(grid, fit_detectors(reference_grid)).events


def test_a_sensor_spiking_all_shift_raises_one_alarm_that_counts_its_repeats():
    # Twelve spikes of 30 sigmas, one every 20 minutes from 08:00: a bursty sensor, one problem.
    events = _spikes_grid([480 + 20 * k for k in range(12)], [30] * 12)
    assert len([e for e in events if e.kind == "spike"]) == 12
    alarms = group_events(events, SENSORS, "UTC")
    assert len(alarms) == 1, [a.sentence for a in alarms]
    alarm = alarms[0]
    assert "came back 11 more times, the last at Thu 11:40" in alarm.sentence, alarm.sentence
    assert sorted({m["occurrence"] for m in alarm.members}) == list(range(12))
    assert [m["kind"] for m in alarm.members if m["lead"]] == ["spike"] * 12
    assert (alarm.start_us, alarm.end_us) == (480 * MINUTE_US, 701 * MINUTE_US)


def test_a_repeat_after_a_quiet_shift_is_a_new_alarm():
    # 08:00 and 10:00 within a shift; 20:00 is more than 8 hours after the last: raised again.
    events = _spikes_grid([480, 600, 1200], [30, 30, 30])
    alarms = group_events(events, SENSORS, "UTC")
    assert [a.start_us // MINUTE_US for a in alarms] == [480, 1200], [a.sentence for a in alarms]


def test_a_broken_relation_alone_is_evidence_not_an_alarm():
    """The oven's two sensors normally move together; judged, the pressure follows the temperature's
    swings the wrong way round while each stays inside its own band: a relation event, no alarm."""
    rng = np.random.default_rng(3)
    swing = np.sin(np.arange(1440) / 30.0)
    common_ref, common = (swing + 0.3 * rng.standard_normal(1440) for _ in range(2))
    reference = np.vstack([50 + common_ref, 50 + common_ref, 50 + rng.standard_normal(1440)])
    judged = np.vstack([50 + common, 50 + common, 50 + rng.standard_normal(1440)])
    judged[1, 600:720] = 50 - common[600:720]
    reference += 0.05 * rng.standard_normal(reference.shape)
    judged += 0.05 * rng.standard_normal(judged.shape)
    events = detect(_grid(judged), fit_detectors(_grid(reference))).events
    oven = [e for e in events if e.machine_id == "DRY-01"]
    assert [e.kind for e in oven] == ["multivariate"], "the inverted relation is found, nothing else"
    assert not [a for a in group_events(events, SENSORS, "UTC") if a.machine_id == "DRY-01"]
    raised = group_events(events, SENSORS, "UTC", AlarmRules(relation_alone=True))
    assert [a.machine_id for a in raised if a.machine_id == "DRY-01"] == ["DRY-01"]
