"""Runs of consecutive True values along the time axis of a (sensors, times) mask, without a Python loop."""

from __future__ import annotations

import numpy as np


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, first, stop) of every run of True in each row of a 2-D mask; stop is exclusive."""
    mask = np.atleast_2d(mask)
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    rows, first = np.nonzero(edges == 1)
    _, stop = np.nonzero(edges == -1)  # row-major order: the n-th stop closes the n-th start
    return rows, first, stop


def merge_close(
    rows: np.ndarray, first: np.ndarray, stop: np.ndarray, max_gap: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Join runs of one row separated by at most ``max_gap`` positions (one event, not a flicker of many)."""
    if len(rows) == 0 or max_gap <= 0:
        return rows, first, stop
    order = np.lexsort((first, rows))
    rows, first, stop = rows[order], first[order], stop[order]
    new_event = np.ones(len(rows), dtype=bool)
    new_event[1:] = (rows[1:] != rows[:-1]) | (first[1:] - stop[:-1] > max_gap)
    group = np.cumsum(new_event) - 1
    starts = np.nonzero(new_event)[0]
    return rows[starts], first[starts], np.maximum.reduceat(stop, starts)[: group[-1] + 1]
