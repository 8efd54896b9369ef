"""SPC on hand-made series: each rule fires on its pattern and stays quiet on a near miss."""

from __future__ import annotations

import numpy as np
import pytest

from orchestration.anomalies.spc import Chart, cp_cpk, individuals_chart, judge_series

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
