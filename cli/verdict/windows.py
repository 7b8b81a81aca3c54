"""Stats over sliding windows of a run's seconds: `error_rate < 1% over 30s`, `p95 < 300ms over 1m`.

A windowed budget holds when every window of that many consecutive seconds of the steady state
meets it; its measured value is the worst window's. A run shorter than the window is one window.
The same sliding stats watch a run live for budgets that abort it (cli/verdict/abort.py).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np
from hdrh.histogram import HdrHistogram

from perfenv.cli.verdict.histograms import new_histogram
from perfenv.cli.verdict.measurement import Window
from perfenv.cli.verdict.stats import counts_stats

Sparse = tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]  # bucket indices, their counts


def _sparse(encoded: str) -> Sparse:
    if not encoded:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    hist = HdrHistogram.decode(encoded)
    counts = np.ctypeslib.as_array(hist.counts)[: hist.counts_len]
    nonzero = np.flatnonzero(counts)
    return nonzero, counts[nonzero].astype(np.int64)


class Sliding:
    """The last `span` seconds of one run (every second when `span` is None), fed in order."""

    def __init__(self, span: int | None) -> None:
        self.span = span
        self.template = new_histogram()
        self.counts = np.zeros(self.template.counts_len, dtype=np.int64)
        self.seconds: deque[tuple[Window, Sparse]] = deque()
        self.planned = self.done = self.errors = 0

    def _count(self, window: Window, sparse: Sparse, sign: int) -> None:
        np.add.at(self.counts, sparse[0], sign * sparse[1])
        self.planned += sign * window.planned
        self.done += sign * (window.ok + window.errors)
        self.errors += sign * window.errors

    def add(self, window: Window) -> None:
        sparse = _sparse(window.histogram)
        self.seconds.append((window, sparse))
        self._count(window, sparse, +1)
        if self.span is not None and len(self.seconds) > self.span:
            self._count(*self.seconds.popleft(), -1)

    @property
    def full(self) -> bool:
        return self.span is None or len(self.seconds) >= self.span

    def value(self, metric: str) -> float | None:
        if metric == "error_rate":
            return self.errors / self.done if self.done else None
        if metric == "throughput":
            return self.done / self.planned if self.planned else None
        return counts_stats(self.template, self.counts, (metric,))[metric]


def worst_window(
    metric: str, span: int, upper: bool, runs: Sequence[Sequence[Window]]
) -> tuple[float | None, int | None]:
    """The worst value of `metric` over every `span`-second window of each run (highest for an
    upper bound), and the second that window ends at."""
    worst: float | None = None
    at: int | None = None
    for windows in runs:
        sliding = Sliding(span)
        short = len(windows) < span  # one window: the whole run
        for i, window in enumerate(windows):
            sliding.add(window)
            if not (sliding.full or (short and i == len(windows) - 1)):
                continue
            value = sliding.value(metric)
            if value is not None and (worst is None or (value > worst) == upper):
                worst, at = value, window.t
    return worst, at
