"""Moving-block bootstrap over per-second windows, on latency bins shared by both sides."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from hdrh.histogram import HdrHistogram

from perfenv.cli.verdict.measurement import Window

BIN_RESOLUTION = 0.01  # bootstrap latencies in bins 1% wide: finer than the 5% effect floor


class Binned:
    """Windows as rows of latency-bin counts on a shared, coarse log scale."""

    def __init__(self, sides: Sequence[Sequence[Window]]) -> None:
        decoded = [[HdrHistogram.decode(w.histogram) for w in side] for side in sides]
        used: set[int] = set()
        raw: list[list[np.ndarray[Any, Any]]] = []
        for side in decoded:
            rows = [
                np.ctypeslib.as_array(h.counts)[: h.counts_len].astype(np.float64) for h in side
            ]
            raw.append(rows)
            for row in rows:
                used.update(np.flatnonzero(row).tolist())
        index = np.array(sorted(used), dtype=np.int64)
        probe = decoded[0][0] if decoded and decoded[0] else HdrHistogram(1, 60_000_000, 3)
        values = np.array(
            [probe.get_highest_equivalent_value(probe.get_value_from_index(int(i))) for i in index],
            dtype=np.float64,
        )
        # Coarse bins: log-spaced, BIN_RESOLUTION wide; each bin keeps its top value.
        bins = (
            np.floor(np.log(np.maximum(values, 1.0)) / math.log1p(BIN_RESOLUTION)).astype(np.int64)
            if len(values)
            else np.array([], dtype=np.int64)
        )
        uniq, inverse = np.unique(bins, return_inverse=True)
        self.values = np.zeros(len(uniq))
        np.maximum.at(self.values, inverse, values)
        self.sides: list[np.ndarray[Any, Any]] = []
        for rows in raw:
            matrix = np.zeros((len(rows), len(uniq)))
            for r, row in enumerate(rows):
                np.add.at(matrix[r], inverse, row[index])
            self.sides.append(matrix)

    def percentiles(
        self, counts: np.ndarray[Any, Any], ps: Sequence[float]
    ) -> np.ndarray[Any, Any]:
        """Per row of bin counts, each p-th percentile (us): shape (len(ps), rows)."""
        counts = np.atleast_2d(counts)
        cums = np.cumsum(counts, axis=1)
        totals = cums[:, -1]
        out = np.full((len(ps), counts.shape[0]), np.nan)
        for k, p in enumerate(ps):
            target = np.maximum(1.0, np.floor(p / 100.0 * totals + 0.5))
            idx = np.minimum((cums < target[:, None]).sum(axis=1), len(self.values) - 1)
            out[k] = np.where(totals > 0, self.values[idx], np.nan)
        return out


def block_length(n: int) -> int:
    return int(min(30, max(3, round(n ** (1 / 3)))))


def block_resample(
    matrix: np.ndarray[Any, Any], samples: int, rng: np.random.Generator
) -> np.ndarray[Any, Any]:
    """Moving-block bootstrap: `samples` resampled sums of the rows of `matrix` (windows)."""
    n = matrix.shape[0]
    length = min(block_length(n), n)
    starts = n - length + 1
    blocks = math.ceil(n / length)
    cums = np.vstack([np.zeros((1, matrix.shape[1])), np.cumsum(matrix, axis=0)])
    block_sums = cums[length:] - cums[:-length]  # starts x bins
    weights = np.zeros((samples, starts))
    picks = rng.integers(0, starts, size=(samples, blocks))
    np.add.at(weights, (np.arange(samples)[:, None], picks), 1.0)
    # Scale to the original window count so that a last partial block weighs right.
    weights *= n / (blocks * length)
    result: np.ndarray[Any, Any] = weights @ block_sums
    return result


def quarter_noise(binned: Binned, matrix: np.ndarray[Any, Any], ps: Sequence[float]) -> Any:
    """Per percentile, the coefficient of variation across the run's four quarters.

    Measured on recorded runs of one build, it tracks the run-to-run noise (which one run cannot
    show directly): load on a shared machine moves a run's percentiles over seconds, and those
    moves are what separates one whole run from the next.
    """
    n = matrix.shape[0] // 4
    if n < 2:
        return np.zeros(len(ps))
    sums = np.vstack([matrix[i * n : (i + 1) * n].sum(axis=0) for i in range(4)])
    values = binned.percentiles(sums, ps)  # (len(ps), 4)
    means = values.mean(axis=1)
    return np.where(means > 0, values.std(axis=1, ddof=1) / means, 0.0)
