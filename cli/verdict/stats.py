"""Statistics of measurements: the stats the budgets are judged on (numpy), and the HdrHistogram
helpers of `histograms.py` again, so producers need one import.

Producers (engines, results, reports, compare) use these without importing the judge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from hdrh.histogram import HdrHistogram

from perfenv.cli.verdict.budgets import PERCENTILES
from perfenv.cli.verdict.histograms import merged
from perfenv.cli.verdict.measurement import (
    Run,
    ScenarioMeasurement,
    Stats,
    SummaryRun,
    Window,
)


def latency_stats(hist: HdrHistogram) -> Stats:
    """Latency metrics in milliseconds; None when nothing was recorded."""
    return counts_stats(hist, np.ctypeslib.as_array(hist.counts)[: hist.counts_len])


def counts_stats(
    template: HdrHistogram, counts: np.ndarray[Any, Any], metrics: Iterable[str] | None = None
) -> Stats:
    """Latency metrics (ms) of a histogram's bucket counts, laid out as `template`'s.

    Same values as HdrHistogram's own percentile, max and mean queries, from the non-zero
    buckets only (its pure-Python queries walk every bucket: too slow for thousands of windows).
    """
    wanted = tuple(metrics) if metrics is not None else (*PERCENTILES, "mean")
    nonzero = np.flatnonzero(counts)
    if len(nonzero) == 0:
        return dict.fromkeys(wanted)
    found = counts[nonzero].astype(np.float64)
    cumulative = np.cumsum(found)
    total = cumulative[-1]

    def top(index: int) -> float:  # the highest value of a bucket, in us
        return float(template.get_highest_equivalent_value(template.get_value_from_index(index)))

    out: Stats = {}
    for metric in wanted:
        if metric == "mean":
            lows = [template.get_value_from_index(int(i)) for i in nonzero]
            mids = [(low + template.get_highest_equivalent_value(low)) / 2 for low in lows]
            out["mean"] = float(np.dot(found, mids) / total) / 1000  # a bucket's middle
            continue
        p = PERCENTILES[metric]
        target = max(int(p / 100 * total + 0.5), 1)
        index = int(
            nonzero[-1] if p == 100.0 else nonzero[int(np.searchsorted(cumulative, target))]
        )
        out[metric] = top(index) / 1000
    return out


def window_stats(windows: Sequence[Window]) -> Stats:
    """Counts, rates and latency metrics over `windows`."""
    planned = sum(w.planned for w in windows)
    sent = sum(w.sent for w in windows)
    ok = sum(w.ok for w in windows)
    errors = sum(w.errors for w in windows)
    done = ok + errors
    stats: Stats = {
        "planned": planned,
        "sent": sent,
        "ok": ok,
        "errors": errors,
        "error_rate": errors / done if done else None,
        "throughput": done / planned if planned else None,
        "achieved_rps": done / len(windows) if windows else None,
    }
    stats.update(latency_stats(merged(w.histogram for w in windows)))
    return stats


def steady(run: ScenarioMeasurement) -> list[Window]:
    return [w for w in run.windows if w.t >= run.warmup_s]


def pooled_stats(runs: Sequence[Run]) -> Stats:
    """Steady-state stats over every repeat; summary runs combine conservatively (worst run)."""
    measured = [r for r in runs if isinstance(r, ScenarioMeasurement)]
    if measured:
        return window_stats([w for r in measured for w in steady(r)])
    summaries = [r.stats for r in runs if isinstance(r, SummaryRun)]
    out: Stats = {}
    for key in summaries[0] if summaries else {}:
        values = [s.get(key) for s in summaries]
        known = [v for v in values if v is not None]
        if key in ("planned", "sent", "ok", "errors"):
            out[key] = sum(known)
        elif key == "throughput":
            out[key] = min(known) if len(known) == len(values) else None
        else:
            out[key] = max(known) if len(known) == len(values) else None
    return out
