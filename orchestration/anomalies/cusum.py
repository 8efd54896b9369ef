"""Level shifts and drifts: a two-sided CUSUM of the robust z-score, without a loop over time.

The upper CUSUM S[t] = max(0, S[t-1] + z[t] - k) equals C[t] - min(0, min_{s<=t} C[s]) with C the cumulative
sum of z - k, so one ``cumsum`` and one ``minimum.accumulate`` give it for every sensor at once; a restart
(excluded context) is a new segment. Only the few sensors whose CUSUM crosses the decision interval are then
walked event by event, each event a vector search too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SENSORS_PER_CHUNK = 64  # bounds the float64 work arrays to 64 x times


@dataclass(frozen=True)
class LevelChange:
    row: int
    onset: int  # the reading after the CUSUM's last zero before the alarm
    alarm: int  # the reading at which the CUSUM crossed h
    stop: int  # exclusive: after the CUSUM's peak
    sign: float  # +1 up, -1 down


def cusum(z: np.ndarray, restart: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower CUSUM (rows, times) of z (NaN: not judged, the sums hold), restarted at ``restart``."""
    step = np.nan_to_num(np.clip(z, -50, 50), nan=0.0).astype(np.float64)
    judged = np.isfinite(z)
    sums = []
    for sign in (1.0, -1.0):
        increment = np.where(judged, sign * step - k, 0.0)
        total = np.cumsum(increment, axis=1)
        # Each restart lowers the rest of the row by more than the sum can climb, so that the running minimum
        # starts afresh there (the CUSUM is 0 at a restart) and never reaches back into an earlier segment.
        total -= np.cumsum(restart, axis=1) * (np.abs(increment).sum(axis=1, keepdims=True) + 1.0)
        floor = np.minimum(np.minimum.accumulate(total, axis=1), 0.0)
        sums.append(total - floor)
    return sums[0], sums[1]


def level_changes(z: np.ndarray, restart: np.ndarray, h: np.ndarray, k: float) -> list[LevelChange]:
    """Every CUSUM alarm of every row. An event is the CUSUM's excursion that crossed ``h``: from the reading
    after its last zero (the onset) to its peak (where the shift ended: after it the sum only
    falls); the CUSUM starts again after the peak."""
    found: list[LevelChange] = []
    for first in range(0, z.shape[0], SENSORS_PER_CHUNK):
        rows = slice(first, first + SENSORS_PER_CHUNK)
        upper, lower = cusum(z[rows], restart[rows], k)
        alarmed = ((upper > h[rows]) | (lower > h[rows])).any(axis=1)
        for row in np.nonzero(alarmed)[0] + first:
            found += _walk(row, z[row], restart[row], h[row], k)
    return found


def _walk(row, z, restart, h, k) -> list[LevelChange]:
    events = []
    at = 0
    while at < len(z):
        upper, lower = cusum(z[None, at:], restart[None, at:], k)
        upper, lower = upper[0], lower[0]
        over = np.nonzero((upper > h[at:]) | (lower > h[at:]))[0]
        if len(over) == 0:
            break
        alarm = int(over[0])
        sign = 1.0 if upper[alarm] >= lower[alarm] else -1.0
        side = upper if sign > 0 else lower
        zeros = np.nonzero(side[: alarm + 1] == 0)[0]
        onset = int(zeros[-1]) + 1 if len(zeros) else 0
        back = np.nonzero((side[alarm:] == 0) | restart[at + alarm :])[0]
        end = alarm + (int(back[0]) if len(back) else len(side) - alarm)
        peak = alarm + int(np.argmax(side[alarm:end]))
        events.append(LevelChange(row, at + onset, at + alarm, at + peak + 1, sign))
        at += peak + 1
    return events
