"""SPC on hand-made series: each rule fires on its pattern and stays quiet on a near miss."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from orchestration.anomalies.quality_control import Batch, Series, chart_alarm
from orchestration.anomalies.spc import (
    Chart,
    alarm_limits,
    cp_cpk,
    individuals_chart,
    judge_alarm_rules,
    judge_series,
)

CHART = Chart(center=0.0, sigma=1.0, mr_bar=1.128, baseline_points=50)
CALM = [0.3, -0.3] * 10  # alternating within 1 sigma: nothing but N4/N7 patterns if long enough


def fired(values, rule):
    return [p for p in judge_series(np.array(values, dtype=float), CHART, rules=(rule,))]


# (rule, series that fires it on its last point, near miss)
CASES = {
    "WE1": ([0.1, 3.2], [0.1, 2.9]),
    "N1": ([0.1, -3.2], [0.1, -2.9]),
    "WE2": ([0.2, 2.5, 0.1, 2.4], [0.2, 2.5, 0.1, 0.3, 2.4]),
    "N5": ([-2.5, -2.2], [-2.5, 2.2]),
    "WE3": ([1.5, 1.2, 0.2, 1.3, 1.4], [1.5, 1.2, 0.2, 0.3, 1.4]),
    "N6": ([-1.5, -1.2, -0.2, -1.3, -1.4], [-1.5, -1.2, -0.2, 1.3, -1.4]),
    "WE4": ([0.5] * 8, [0.5] * 7 + [-0.5]),
    "N2": ([0.5] * 9, [0.5] * 8 + [-0.5]),
    "N3": ([-1.0, -0.5, 0.0, 0.2, 0.5, 0.9], [-1.0, -0.5, 0.0, 0.2, 0.1, 0.9]),
    "N4": ([0.5, -0.5] * 7, [0.5, -0.5] * 6 + [0.5, 0.6]),
    "N7": ([0.5, -0.5, 0.4, 0.6, -0.3] * 3, [0.5, -0.5, 0.4, 0.6, -0.3] * 2 + [0.5, -0.5, 0.4, 0.6, -1.3]),
    "N8": ([1.5, -1.5, 1.2, -1.8, 1.6, 1.4, -1.1, 1.3], [1.5, -1.5, 1.2, -1.8, 0.6, 1.4, -1.1, 1.3]),
    "MR": ([0.0, 2.0, -2.0], [0.0, 1.5, -1.5]),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires_on_its_pattern_and_not_on_a_near_miss(rule):
    trigger, near_miss = CASES[rule]
    hits = fired(trigger, rule)
    assert [h.index for h in hits][-1:] == [len(trigger) - 1], f"{rule} should fire on the last point"
    assert fired(near_miss, rule) == [], f"{rule} fired on a near miss"


def test_a_rule_reports_the_points_of_its_pattern():
    hit = fired([0.2, 2.5, 0.1, 2.4], "WE2")[-1]
    assert hit.points == (1, 3)  # the two points beyond 2 sigma, not the one between
    run = fired([0.5] * 9, "N2")
    assert len(run) == 1 and run[0].points == tuple(range(9))


def test_limits_come_from_the_baseline_and_sigma_from_the_moving_range():
    baseline = np.array([10.0, 11.0, 10.0, 11.0, 10.0])
    chart = individuals_chart(baseline)
    assert chart.center == pytest.approx(10.4)
    assert chart.sigma == pytest.approx(1.0 / 1.128)
    assert chart.ucl == pytest.approx(10.4 + 3 / 1.128)
    assert chart.mr_ucl == pytest.approx(3.267)
    # A process that shifted after the baseline is judged against the old limits and caught.
    shifted = judge_series(np.full(9, 12.0), chart)
    assert {p.rule for p in shifted} == {
        "N2",
        "WE4",
        "WE3",
        "N6",
        "N8",
    }  # 1.8 sigma up: no 2- or 3-sigma rule


def test_capability_from_the_within_sigma():
    rng = np.random.default_rng(3)
    values = 100 + rng.standard_normal(5000)
    cp, cpk = cp_cpk(values, 97.0, 103.0)
    assert cp == pytest.approx(1.0, abs=0.05)
    assert cpk == pytest.approx(1.0, abs=0.06)
    off_centre = cp_cpk(values + 1.5, 97.0, 103.0)
    assert off_centre[0] == pytest.approx(cp) and off_centre[1] == pytest.approx(0.5, abs=0.05)
    assert cp_cpk(values, None, 103.0)[0] is None  # one-sided: Cpk only
    assert cp_cpk(values, None, 103.0)[1] == pytest.approx(1.0, abs=0.06)


# --- alarms: one per chart and day, from rules whose limits hold a plant-wide false-alarm budget ---

START = datetime(2026, 11, 13, 14, 0, tzinfo=UTC)  # 15:00 in Berlin


def batches(values, sent_back=()):
    return [
        Batch(
            f"M{n:03d}", START + timedelta(minutes=20 * n), float(v), 116.0, 124.0, [float(v)], n in sent_back
        )
        for n, v in enumerate(values)
    ]


def coating_series(judged, sent_back=(), warm_up=False):
    baseline = batches(120.0 + 0.9 * np.random.default_rng(1).standard_normal(50))
    return Series(
        "coating_thickness", "COAT-01", "NMC811-PC60", "um", baseline, batches(judged, sent_back), warm_up
    )


def alarm_of(series, per_point=1e-3):
    chart = individuals_chart(np.array([b.value for b in series.baseline]))
    fired = judge_series(np.array([b.value for b in series.judged]), chart)
    return chart_alarm(series, chart, fired, per_point, "Europe/Berlin"), chart, fired


def test_one_chart_day_is_one_alarm_with_each_point_once():
    judged = [120.2, 119.8, 120.1, 119.9, 120.0, 126.5, 126.8, 126.2, 126.6, 126.4]  # a shift of ~7 sigma
    alarm, chart, fired = alarm_of(coating_series(judged))
    assert alarm is not None and alarm.priority == "critical"  # batch means beyond the upper spec 124 um
    ids = [m["measurement_id"] for m in alarm.members]
    assert len(ids) == len(set(ids))  # one point once, though WE1, N1, LIMIT, SPEC ... all fire on it
    first_out = next(m for m in alarm.members if m["measurement_id"] == "M005")
    assert {"WE1", "N1", "LIMIT", "SPEC"} <= set(first_out["rules"])
    assert len(fired) > len(ids) - 1  # the firings double count points; the alarm does not
    assert alarm.start_us == int(START.timestamp() * 1e6) + 5 * 20 * 60 * 1_000_000
    assert alarm.sentence.startswith("Coating thickness on COAT-01 (NMC811-PC60): 5 batches out of control")
    assert "since 16:40" in alarm.sentence and " um " in alarm.sentence and "sigma" in alarm.sentence
    assert "5 beyond the upper specification limit 124.00 um" in alarm.sentence


def test_a_sustained_shift_within_spec_is_high_and_on_a_new_chart_low():
    judged = [120.0, 119.9, 120.1, 123.0, 123.2, 122.9, 123.1]  # about 3.3 sigma up, inside the spec
    alarm, _, _ = alarm_of(coating_series(judged))
    assert alarm.priority == "high" and "two of three beyond" in alarm.sentence
    assert alarm_of(coating_series(judged, warm_up=True))[0].priority == "low"


def test_a_batch_its_check_sent_back_raises_no_alarm():
    judged = [120.0, 119.9, 126.0, 120.1, 120.2]  # a rework fault: the check caught it, the batch went back
    assert alarm_of(coating_series(judged, sent_back={2}))[0] is None
    assert alarm_of(coating_series(judged))[0].priority == "critical"  # had it gone on: product at stake


def test_chance_alone_fires_the_alarm_rules_at_the_budgeted_rate():
    rng = np.random.default_rng(16)
    charts, points, per_point = 3000, 20, 1 / 800  # a plant of 800 batches a day, 1 false alarm a day
    alarms = we1 = 0
    for _ in range(charts):
        chart = individuals_chart(rng.standard_normal(50))
        values = rng.standard_normal(points)
        limits = alarm_limits(per_point, chart.baseline_points)
        alarms += bool(judge_alarm_rules(values, chart, limits, None, None))
        we1 += bool(judge_series(values, chart, rules=("WE1",)))
    expected = charts * points * per_point  # 75 alarms
    assert 0.6 * expected < alarms < 1.5 * expected
    assert we1 > 2.5 * expected  # one point beyond 3 sigma alone: three times the budget


def test_short_baselines_and_larger_plants_widen_the_alarm_limits():
    assert alarm_limits(1e-3, 20).limit > alarm_limits(1e-3, 50).limit > alarm_limits(1e-3, 500).limit
    assert alarm_limits(1e-4, 50).limit > alarm_limits(1e-3, 50).limit
    assert alarm_limits(1e-3, 50).shift < alarm_limits(1e-3, 50).limit
