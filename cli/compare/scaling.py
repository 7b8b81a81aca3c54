"""A uniform regression made to order: every recorded latency times a factor.

The benchmark's power figures and the tests' regressions use this one definition of "N% slower",
so the two cannot drift apart; it lives here, not under tests/, so benchmarks need no test code.
"""

from __future__ import annotations

import json
from typing import Any

from hdrh.histogram import HdrHistogram


def scaled_histogram(encoded: str, factor: float) -> str:
    """`encoded` with every recorded latency multiplied by `factor` (a uniform regression)."""
    source = HdrHistogram.decode(encoded)
    out = HdrHistogram(1, 60_000_000, 3)
    for item in source.get_recorded_iterator():
        value = min(60_000_000, max(1, round(item.value_iterated_to * factor)))
        out.record_value(value, item.count_added_in_this_iter_step)
    encoded_out: bytes = out.encode()
    return encoded_out.decode()


def scaled_results(doc: dict[str, Any], factor: float) -> dict[str, Any]:
    """A copy of a results document whose latencies are all `factor` times the originals."""
    copy: dict[str, Any] = json.loads(json.dumps(doc))
    for scenario in copy["scenarios"]:
        for run in scenario["runs"]:
            for window in run.get("windows", []):
                window["histogram"] = scaled_histogram(window["histogram"], factor)
    return copy
