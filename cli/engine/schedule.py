"""The open-model arrival schedule: when each arrival is due, and which process sends it.

Second `s` with rate `r` holds the arrivals whose global index `k` satisfies
`round(cum(s)) <= k < round(cum(s + 1))` (`cum`: the running sum of the rates), spaced evenly at
`s + (k - cum(s)) / r`. Process `p` of `n` sends the arrivals with `k % n == p`: an exact split
whose shares interleave in time. Pure code: the generator processes and the tests share it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence


def _bounds(rates: Sequence[float]) -> list[int]:
    """First global arrival index of each second, plus the end: len(rates) + 1 entries."""
    bounds = [0]
    total = 0.0
    for rate in rates:
        total += max(0.0, rate)
        bounds.append(math.floor(total + 0.5 + 1e-9))  # round half up, as planned
    return bounds


def planned_per_second(rates: Sequence[float], share: int = 0, shares: int = 1) -> list[int]:
    """Arrivals scheduled in each second for process `share` of `shares`."""
    bounds = _bounds(rates)
    return [_count_in(bounds[s], bounds[s + 1], share, shares) for s in range(len(rates))]


def _count_in(start: int, stop: int, share: int, shares: int) -> int:
    """How many k in [start, stop) have k % shares == share."""

    def upto(n: int) -> int:  # k in [0, n)
        return (n - share + shares - 1) // shares if n > share else 0

    return upto(stop) - upto(start)


def arrivals(
    rates: Sequence[float], share: int = 0, shares: int = 1
) -> Iterator[tuple[int, float, int]]:
    """(global index, due time in seconds from the start, second) for one process, in order."""
    bounds = _bounds(rates)
    cum = 0.0
    for second, rate in enumerate(rates):
        first, stop = bounds[second], bounds[second + 1]
        k = first + (share - first) % shares
        while k < stop:
            yield k, second + min(0.999999, max(0.0, (k - cum) / rate)), second
            k += shares
        cum += max(0.0, rate)
