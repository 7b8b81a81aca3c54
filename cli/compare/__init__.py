"""`perfenv compare`: did the candidate regress against the baseline?

Per scenario, the run-level statistic is p95 (p50 and p99 are shown, not judged: judging three
correlated percentiles at 5% each would triple the false alarms). A regression needs both
significance (one-sided, alpha 5%) and a change of at least a threshold:

- with repeated runs on both sides (`--repeat`): Welch's t-test on the log of each run's value,
  the change being the ratio of the geometric means, and the threshold the practical minimum
  of 5% (ADR 0035, which supersedes ADR 0008's noise floor here: the test already asks the change
  to exceed its standard error, which shrinks as runs are added, so more runs give more power);
- with one run on a side: a moving-block bootstrap over the per-second windows (blocks of
  several seconds keep their autocorrelation), and the threshold max(5%, 2 x the noise). One
  run cannot show its run-to-run noise directly; it is estimated as the larger of the
  bootstrap's spread and the variation across the run's four quarters, which on recorded runs
  of one build tracks the run-to-run noise (benchmarks/bench_compare.py).

The error rate regresses when it rises by at least 0.5 percentage points, significantly
(two-proportion z-test). For stress, both sides are compared on the steps up to the
baseline's knee: the same load where the baseline met its budgets.
"""

from __future__ import annotations

from perfenv.cli.compare.bootstrap import BIN_RESOLUTION, block_length, block_resample
from perfenv.cli.compare.releases import (
    find_baseline,
    merge_runs,
    ordered_releases,
    previous_release,
    release_results,
    resolve,
    resolve_any,
    stored_releases,
)
from perfenv.cli.compare.scenario import (
    ALPHA,
    BOOTSTRAP_SAMPLES,
    GATING,
    LATENCY_METRICS,
    MIN_EFFECT,
    MIN_ERROR_RATE_RISE,
    NOISE_FACTOR,
    Sample,
    compare_scenario,
    sample,
)
from perfenv.cli.compare.stats import proportion_greater, t_sf, welch_greater
from perfenv.cli.compare.verdict import compare_results, compare_specs, rows
from perfenv.cli.state.releases import check_release

__all__ = [
    "ALPHA",
    "BIN_RESOLUTION",
    "BOOTSTRAP_SAMPLES",
    "GATING",
    "LATENCY_METRICS",
    "MIN_EFFECT",
    "MIN_ERROR_RATE_RISE",
    "NOISE_FACTOR",
    "Sample",
    "block_length",
    "block_resample",
    "check_release",
    "compare_results",
    "compare_scenario",
    "compare_specs",
    "find_baseline",
    "merge_runs",
    "ordered_releases",
    "previous_release",
    "proportion_greater",
    "release_results",
    "resolve",
    "resolve_any",
    "rows",
    "sample",
    "stored_releases",
    "t_sf",
    "welch_greater",
]
