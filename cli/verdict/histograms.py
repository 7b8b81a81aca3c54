"""HdrHistogram helpers that need no numpy: what the stack's controller and balancer-side readers
use to merge the balancer's histograms (numpy alone takes longer to import than the controller
needs to start its fleet). The stats judged on them are in `stats.py`."""

from __future__ import annotations

from collections.abc import Iterable

from hdrh.histogram import HdrHistogram

from perfenv.cli.verdict.measurement import (
    HIST_HIGHEST_US,
    HIST_LOWEST_US,
    HIST_SIGNIFICANT_DIGITS,
)


def new_histogram() -> HdrHistogram:
    return HdrHistogram(HIST_LOWEST_US, HIST_HIGHEST_US, HIST_SIGNIFICANT_DIGITS)


def merged(encoded: Iterable[str]) -> HdrHistogram:
    """One histogram holding every encoded histogram in `encoded`."""
    total = new_histogram()
    for text in encoded:
        if text:
            total.add(HdrHistogram.decode(text))
    return total
