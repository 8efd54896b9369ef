"""Level shifts and drifts: a short windowed mean against a slowly adapting baseline, with hysteresis.

A sensor's standardized residual z (its reading minus what its machine state, lag and hour of day make it
read, in robust sigmas) still moves slowly for legitimate reasons: a rig warming up, a room's weather, the new
normal after maintenance. So each sensor's baseline follows its own z with an exponential average of time
constant ``tau`` readings, and a deviation is the mean of the last ``window`` readings against the baseline as
it stood before that window. An event opens when the deviation passes ``open`` (in sigmas of that windowed
mean) and closes when it falls back under ``close`` (hysteresis: a signal hovering near one limit does not
chatter); while it is open the baseline is frozen at its value before the event, so a real shift is held for
as long as it lasts and is not learnt away. An event still open after ``max_open`` readings has become the
sensor's new normal: it is closed there, the baseline restarts from the new level and the event says so.

Each row is scanned with vector operations; only rows with a candidate are walked, event by event (as the
CUSUM before it: one ``lfilter`` from each event's end on), so a day of a thousand sensors stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter


@dataclass(frozen=True)
class LevelEvent:
    row: int
    onset: int  # first reading of the deviation (the window that first left the close band, at its start)
    alarm: int  # reading at which the deviation passed ``open``
    stop: int  # exclusive: the reading at which it came back within ``close`` (or was re-baselined)
    sign: float  # +1 up, -1 down
    peak: float  # the largest deviation, in sigmas of the windowed mean
    rebaselined: bool  # still open after max_open: taken as the new normal from ``stop`` on


def windowed_mean(z: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean of the last ``window`` judged readings (NaN when fewer than half were judged)."""
    judged = np.isfinite(z)
    filled = np.where(judged, z, 0.0).astype(np.float64)
    total = np.cumsum(filled, axis=1)
    count = np.cumsum(judged, axis=1, dtype=np.int64)
    total[:, window:] = total[:, window:] - total[:, :-window]
    count[:, window:] = count[:, window:] - count[:, :-window]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    return np.where(count >= max(1, window // 2), mean, np.nan)


def adaptive_baseline(z: np.ndarray, tau: float, start: np.ndarray | None = None) -> np.ndarray:
    """Exponential average of z per row (time constant ``tau`` readings); unjudged readings hold it.

    ``start`` (rows,) is the value it starts from (0: the reference's own level)."""
    alpha = 1.0 / max(tau, 1.0)
    judged = np.isfinite(z)
    rows = z.shape[0]
    start = np.zeros(rows) if start is None else np.asarray(start, dtype=np.float64)
    # An unjudged reading repeats the last baseline: feed the filter its own previous output there. With
    # few unjudged readings, filling them with the running baseline of a first pass is exact enough.
    first = lfilter(
        [alpha], [1.0, alpha - 1.0], np.where(judged, z, 0.0), axis=1, zi=((1 - alpha) * start)[:, None]
    )[0]
    if judged.all():
        return first
    previous = np.concatenate([start[:, None], first[:, :-1]], axis=1)
    filled = np.where(judged, z, previous)
    return lfilter([alpha], [1.0, alpha - 1.0], filled, axis=1, zi=((1 - alpha) * start)[:, None])[0]


def deviations(z: np.ndarray, window: int, tau: float, level_sigma: np.ndarray) -> np.ndarray:
    """|windowed mean - baseline before the window| in sigmas of the windowed mean, with no event held."""
    mean = windowed_mean(z, window)
    base = _lagged(adaptive_baseline(z, tau), window)
    return np.abs(mean - base) / level_sigma[:, None]


def level_sigma_of(z_reference: np.ndarray, window: int) -> np.ndarray:
    """How far a sensor's windowed mean wanders in normal operation: its robust spread on the reference.

    A smooth sensor (a temperature) has almost no short-term noise but wanders slowly: measured against its
    short-term noise alone, every slow swing would be a fault. A median and a MAD, so that a fault inside the
    reference does not widen it. Floored at 1/sqrt(window), the spread of a mean of ``window`` independent
    unit residuals."""
    return np.fmax(_robust_spread(windowed_mean(z_reference, window)), 1.0 / np.sqrt(window))


def _robust_spread(a: np.ndarray) -> np.ndarray:
    mid = nanmedian_rows(a)
    return np.nan_to_num(1.4826 * nanmedian_rows(np.abs(a - mid[:, None])), nan=0.0)


def level_events(
    z: np.ndarray,
    restart: np.ndarray,
    level_sigma: np.ndarray,
    open_at: np.ndarray,
    close_at: np.ndarray,
    window: int,
    tau: float,
    max_open: int,
) -> tuple[list[LevelEvent], np.ndarray]:
    """Every level event of every row, and the baseline each reading was judged against (rows, times).

    ``restart`` (rows, times) marks excluded readings (changeovers, maintenance): an open event ends there and
    the baseline starts again from 0 after them. ``open_at`` / ``close_at`` are per row (sensor limits)."""
    mean = windowed_mean(z, window)
    baseline = _segmented_baseline(z, restart, tau)
    dev = np.abs(mean - _lagged(baseline, window)) / level_sigma[:, None]
    candidates = np.nonzero(np.nanmax(np.where(np.isfinite(dev), dev, 0.0), axis=1, initial=0.0) > open_at)[0]
    events: list[LevelEvent] = []
    for row in candidates:
        found, baseline[row] = _walk(
            row,
            z[row],
            mean[row],
            restart[row],
            level_sigma[row],
            open_at[row],
            close_at[row],
            window,
            tau,
            max_open,
        )
        events += found
    return events, baseline


def _walk(row, z, mean, restart, sigma, open_at, close_at, window, tau, max_open):
    """The events of one row, left to right; after each, the baseline restarts from where it ended."""
    n = len(z)
    baseline = _segmented_baseline(z[None, :], restart[None, :], tau)[0]
    events = []
    at = 0
    while at < n:
        base_before = _lagged(baseline[None, :], window)[0]
        dev = np.abs(mean - base_before) / sigma
        over = np.nonzero(np.nan_to_num(dev[at:], nan=0.0) > open_at)[0]
        if not len(over):
            break
        alarm = at + int(over[0])
        frozen = base_before[alarm]
        held = np.abs(mean - frozen) / sigma
        # Onset: back to where the windowed mean last stood within the close band, then the window's start.
        calm_before = np.nonzero(~(np.nan_to_num(held[at:alarm], nan=0.0) > close_at))[0]
        lookback = max(at, (at + int(calm_before[-1]) + 1 if len(calm_before) else at) - (window - 1))
        onset = change_point(z[lookback : alarm + 1], frozen, mean[alarm]) + lookback
        after = np.nonzero((np.nan_to_num(held[alarm:], nan=np.inf) < close_at) | restart[alarm:])[0]
        stop = alarm + int(after[0]) if len(after) else n
        closed_at = stop  # the windowed mean is back: only from here can a new event open
        if stop < n and not restart[stop]:
            # The windowed mean comes back late by up to a window: the shift ended where the readings did.
            tail = max(alarm + 1, stop - window)
            shifted = mean[alarm]
            stop = stop - change_point(z[tail:stop][::-1], frozen, shifted)
        rebaselined = stop - onset > max_open
        if rebaselined:
            stop = onset + max_open
        segment = held[alarm:stop]
        peak = float(np.nanmax(segment)) if np.isfinite(segment).any() else float(held[alarm])
        sign = 1.0 if mean[alarm] >= frozen else -1.0
        events.append(
            LevelEvent(int(row), int(onset), int(alarm), int(max(stop, alarm + 1)), sign, peak, rebaselined)
        )
        stop = max(stop, alarm + 1)
        # Judged against the frozen level while open; afterwards the baseline starts again: from the reading
        # it returned to, or from the new level when the event was taken as the new normal.
        baseline[alarm:stop] = frozen
        if stop < n:
            settled = mean[stop - 1] if rebaselined and np.isfinite(mean[stop - 1]) else frozen
            rest = _segmented_baseline(z[None, stop:], restart[None, stop:], tau, start=settled)[0]
            baseline[stop:] = rest
        at = max(stop, closed_at) if not rebaselined else stop
    return events, baseline


def change_point(z: np.ndarray, before: float, after: float) -> int:
    """Where a shift from ``before`` to ``after`` most likely began in ``z``: the reading after the minimum
    of the cumulative sum of (z - before) - half the shift, toward the shift (the CUSUM's own onset)."""
    sign = 1.0 if after >= before else -1.0
    step = sign * (np.nan_to_num(z, nan=before) - before) - abs(after - before) / 2.0
    total = np.concatenate([[0.0], np.cumsum(step)])
    return int(np.argmin(total))


def _segmented_baseline(z: np.ndarray, restart: np.ndarray, tau: float, start: float = 0.0) -> np.ndarray:
    """The adaptive baseline, begun again at 0 after every excluded span (the state model starts afresh)."""
    out = adaptive_baseline(z, tau, start=np.full(z.shape[0], start))
    if not restart.any():
        return out
    for row in np.nonzero(restart.any(axis=1))[0]:
        excluded = restart[row]
        # Starts of the judged runs after an excluded reading.
        begins = np.nonzero(~excluded[1:] & excluded[:-1])[0] + 1
        out[row, excluded] = 0.0
        for begin in begins:
            end = begin + int(np.argmax(excluded[begin:])) if excluded[begin:].any() else len(excluded)
            out[row, begin:end] = adaptive_baseline(z[None, row, begin:end], tau)[0]
    return out


def _lagged(a: np.ndarray, lag: int) -> np.ndarray:
    """a shifted right by ``lag`` readings along the time axis; the first ``lag`` take the first value."""
    out = np.empty_like(a)
    out[:, lag:] = a[:, :-lag] if lag else a
    out[:, :lag] = a[:, :1]
    return out


def nanmedian_rows(a: np.ndarray) -> np.ndarray:
    out = np.full(a.shape[0], np.nan)
    has = np.isfinite(a).any(axis=1)
    if has.any():
        out[has] = np.nanmedian(a[has], axis=1)
    return out
