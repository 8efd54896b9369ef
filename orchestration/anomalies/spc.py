"""Statistical process control of one quality characteristic: individuals / moving-range chart, rules, Cp/Cpk.

Limits come from a baseline window that precedes the judged points (sigma = mean moving range / 1.128, d2 for
n = 2), so a shifted process cannot widen its own limits. Each rule reports the point it fired on and the
points that make its pattern. The Western Electric rules are the first four; Nelson's eight include them
(Nelson 1 = WE 1, 5 = WE 2, 6 = WE 3; WE 4 is eight on one side, Nelson 2 nine).

Those rules are the chart's record, not alarms: each fires by chance on about 0.3 % to 0.9 % of in-control
points, so a plant judging some 800 batches a day would see a few dozen firings a day with nothing wrong.
An alarm needs one of the alarm rules (``ALARM_RULES``), whose limits come from a false-alarm budget for the
whole plant's day (``alarm_limits``): one point beyond the alarm limit, two of three beyond the shift limit on
one side (Western Electric's 2-of-3 rule with its zone set by the budget), or a batch mean beyond its
specification.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

D2 = 1.128  # expected range of two normal readings, in sigmas
D4 = 3.267  # upper limit factor of the moving-range chart

RULES: dict[str, str] = {
    "WE1": "one point beyond 3 sigma",
    "WE2": "two of three consecutive points beyond 2 sigma on the same side",
    "WE3": "four of five consecutive points beyond 1 sigma on the same side",
    "WE4": "eight consecutive points on the same side of the center line",
    "N1": "one point beyond 3 sigma",
    "N2": "nine consecutive points on the same side of the center line",
    "N3": "six consecutive points steadily increasing or decreasing",
    "N4": "fourteen consecutive points alternating up and down",
    "N5": "two of three consecutive points beyond 2 sigma on the same side",
    "N6": "four of five consecutive points beyond 1 sigma on the same side",
    "N7": "fifteen consecutive points within 1 sigma of the center line",
    "N8": "eight consecutive points beyond 1 sigma, on either side",
    "MR": "moving range beyond its upper control limit",
}
ALARM_RULES: dict[str, str] = {
    "SPEC": "a batch mean beyond its specification limit",
    "LIMIT": "one point beyond the alarm limit",
    "SHIFT": "two of three consecutive points beyond the shift limit on the same side",
}
# Degrees of freedom of a sigma from the mean moving range of m points: about 0.62 (m - 1), its efficiency
# against the standard deviation (Wheeler, Montgomery).
MR_DEGREES_OF_FREEDOM = 0.62


@dataclass(frozen=True)
class Chart:
    center: float
    sigma: float
    mr_bar: float
    baseline_points: int

    @property
    def ucl(self) -> float:
        return self.center + 3 * self.sigma

    @property
    def lcl(self) -> float:
        return self.center - 3 * self.sigma

    @property
    def mr_ucl(self) -> float:
        return D4 * self.mr_bar


@dataclass(frozen=True)
class SpcPoint:
    """One rule firing: on the judged point ``index``, made of the judged points ``points``."""

    rule: str
    index: int
    points: tuple[int, ...]


@dataclass(frozen=True)
class AlarmLimits:
    """Alarm limits of one chart in its sigmas: a point beyond ``limit``, or two of three beyond ``shift``."""

    limit: float
    shift: float


def alarm_limits(false_alarm_per_point: float, baseline_points: int) -> AlarmLimits:
    """Limits at which an in-control point raises an alarm with probability ``false_alarm_per_point``.

    Half the budget goes to each rule. One point beyond +-k: two tails of alpha / 4. Two of three beyond k
    on one side, judged on the later point: about 2 q^2 per side, so 4 q^2 = alpha / 2. The chart's centre
    and sigma are estimates from ``baseline_points`` points, so a new point's distance in estimated sigmas
    follows Student's t (scaled by sqrt(1 + 1/m) for the centre's error), not the normal: a short baseline
    widens its limits rather than crying wolf.
    """
    m = max(2, baseline_points)
    df = max(1.0, MR_DEGREES_OF_FREEDOM * (m - 1))
    scale = math.sqrt(1 + 1 / m)
    alpha = min(false_alarm_per_point, 0.5)
    return AlarmLimits(
        limit=scale * float(stats.t.isf(alpha / 4, df)),
        shift=scale * float(stats.t.isf(math.sqrt(alpha / 8), df)),
    )


def judge_alarm_rules(
    values: np.ndarray, chart: Chart, limits: AlarmLimits, lsl: float | None, usl: float | None
) -> list[SpcPoint]:
    """Firings of the alarm rules (``ALARM_RULES``), in order of the point fired on."""
    x = np.asarray(values, dtype=np.float64)
    z = (x - chart.center) / (chart.sigma if chart.sigma > 0 else np.finfo(float).tiny)
    found = [SpcPoint("LIMIT", int(i), (int(i),)) for i in np.nonzero(np.abs(z) > limits.limit)[0]]
    for sign in (1, -1):
        out = sign * z > limits.shift
        for end in np.nonzero(out & (_window_sum(out, 3) >= 2))[0]:
            found.append(
                SpcPoint("SHIFT", int(end), tuple(i for i in range(end - 2, end + 1) if i >= 0 and out[i]))
            )
    beyond_spec = np.zeros(len(x), dtype=bool)
    if lsl is not None and np.isfinite(lsl):
        beyond_spec |= x < lsl
    if usl is not None and np.isfinite(usl):
        beyond_spec |= x > usl
    found += [SpcPoint("SPEC", int(i), (int(i),)) for i in np.nonzero(beyond_spec)[0]]
    return sorted(found, key=lambda p: (p.index, p.rule))


def individuals_chart(baseline: np.ndarray) -> Chart:
    """Center line and sigma of an individuals chart from baseline points (at least two)."""
    baseline = np.asarray(baseline, dtype=np.float64)
    baseline = baseline[np.isfinite(baseline)]
    if len(baseline) < 2:
        raise ValueError("an individuals chart needs at least two baseline points")
    mr_bar = float(np.mean(np.abs(np.diff(baseline))))
    return Chart(float(np.mean(baseline)), mr_bar / D2, mr_bar, len(baseline))


def judge_series(values: np.ndarray, chart: Chart, rules: tuple[str, ...] | None = None) -> list[SpcPoint]:
    """Every firing of every rule on the judged points, in order of the point fired on."""
    x = np.asarray(values, dtype=np.float64)
    sigma = chart.sigma if chart.sigma > 0 else np.finfo(float).tiny
    z = (x - chart.center) / sigma
    side = np.sign(z)
    found: list[SpcPoint] = []
    wanted = set(rules or RULES)

    def add(rule: str, hits: np.ndarray, length: int, members=None):
        if rule not in wanted:
            return
        for end in np.nonzero(hits)[0]:
            window = range(end - length + 1, end + 1)
            points = tuple(i for i in window if members is None or members[i])
            found.append(SpcPoint(rule, int(end), points))

    beyond3 = np.abs(z) > 3
    add("WE1", beyond3, 1)
    add("N1", beyond3, 1)
    for rule, n in (("WE4", 8), ("N2", 9)):
        add(rule, _ends_of_runs(side > 0, n) | _ends_of_runs(side < 0, n), n)
    for rule, k, n, level in (("WE2", 2, 3, 2), ("N5", 2, 3, 2), ("WE3", 4, 5, 1), ("N6", 4, 5, 1)):
        for sign in (1, -1):
            out = sign * z > level
            add(rule, out & (_window_sum(out, n) >= k), n, out)
    step = np.diff(x)
    rising = np.concatenate([[False], step > 0])
    falling = np.concatenate([[False], step < 0])
    # Six points steadily rising are five rises in a row.
    add("N3", _ends_of_runs(rising, 5) | _ends_of_runs(falling, 5), 6)
    alternating = np.zeros(len(x), dtype=bool)
    alternating[2:] = (step[1:] * step[:-1]) < 0
    add("N4", _ends_of_runs(alternating, 12), 14)  # fourteen points alternate: twelve sign changes in a row
    add("N7", _ends_of_runs(np.abs(z) < 1, 15), 15)
    add("N8", _ends_of_runs(np.abs(z) > 1, 8), 8)
    if "MR" in wanted and len(x) > 1:
        mr = np.concatenate([[0.0], np.abs(step)])
        for end in np.nonzero(mr > chart.mr_ucl)[0]:
            found.append(SpcPoint("MR", int(end), (int(end) - 1, int(end))))
    found.sort(key=lambda p: (p.index, p.rule))
    return found


def cp_cpk(values: np.ndarray, lsl: float | None, usl: float | None) -> tuple[float | None, float | None]:
    """Process capability with the within sigma (mean moving range / d2); None where a limit is missing."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return None, None
    sigma = float(np.mean(np.abs(np.diff(x)))) / D2
    if sigma <= 0:
        return None, None
    mean = float(np.mean(x))
    lsl = None if lsl is None or not np.isfinite(lsl) else float(lsl)
    usl = None if usl is None or not np.isfinite(usl) else float(usl)
    cp = (usl - lsl) / (6 * sigma) if lsl is not None and usl is not None else None
    sides = [
        (usl - mean) / (3 * sigma) if usl is not None else None,
        (mean - lsl) / (3 * sigma) if lsl is not None else None,
    ]
    known = [s for s in sides if s is not None]
    return cp, (min(known) if known else None)


def _ends_of_runs(mask: np.ndarray, n: int) -> np.ndarray:
    """True where a run of consecutive True reaches ``n``: a long run fires once, not on every extension."""
    count = np.zeros(len(mask), dtype=np.int64)
    running = 0
    for i, on in enumerate(mask):
        running = running + 1 if on else 0
        count[i] = running
    return count == n


def _window_sum(mask: np.ndarray, n: int) -> np.ndarray:
    """How many of the last ``n`` positions (fewer at the start) are True."""
    c = np.concatenate([[0], np.cumsum(mask.astype(np.int64))])
    idx = np.arange(1, len(mask) + 1)
    return c[idx] - c[np.maximum(idx - n, 0)]
