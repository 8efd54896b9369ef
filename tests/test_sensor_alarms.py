"""Sensor events become alarms: one per machine and problem, ranked, worded, and only what needs a person."""

from __future__ import annotations

import re

import numpy as np
import pytest

from orchestration.anomalies.detectors import SensorGrid
from orchestration.anomalies.scoring import detect, fit_detectors
from orchestration.anomalies.sensor_alarms import SensorInfo, group_events

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
