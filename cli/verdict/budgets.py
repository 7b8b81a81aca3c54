"""Performance budgets as people write them: `p95 < 250ms`, `error_rate < 1%`, `throughput >= 95%`.

Latency budgets hold a threshold in milliseconds; `error_rate` and `throughput` (achieved over
planned arrivals) hold a fraction. The scale and failover kinds add times, in seconds, that the
environment took (`scale_out_time < 3m`: from the breach to the first scale-out;
`in_service_time`: to the new instances in service; `recovery_time`: until p95, and for a
failover the error rate, were back; `detection_time`: until the balancer stopped sending to a
lost instance; `replacement_time`: until its replacement was in service) and `failover_errors`,
the share of requests that failed during a failover. A budget is judged against a `Stats`
mapping of metric to value in the same units.

A latency, error-rate or throughput budget may hold over a sliding window as well as over the
whole steady state (`error_rate < 1% over 30s`: every 30 s of it), and may stop the run as soon
as it is breached, written as a mapping: `{budget: "error_rate < 5% over 10s", abort: true,
abort_after: 20s}` (no abort in a scenario's first 20 s).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from perfenv.cli.durations import parse_duration

LATENCY_METRICS = ("p50", "p90", "p95", "p99", "p999", "max", "mean")
RATIO_METRICS = ("error_rate", "throughput", "failover_errors")
TIME_METRICS = (
    "scale_out_time",
    "in_service_time",
    "recovery_time",
    "detection_time",
    "replacement_time",
)
METRICS = LATENCY_METRICS + RATIO_METRICS + TIME_METRICS
# The percentile each latency metric stands for (max is the 100th).
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p999": 99.9, "max": 100.0}

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
PASS, FAIL, INVALID = "pass", "fail", "invalid"
SKIPPED = "skipped"  # a scenario that never ran: the run was aborted before it
_EXPR = re.compile(r"^\s*([a-z_0-9]+)\s*(<=|>=|<|>)\s*(\S+)(?:\s+over\s+(\S+))?\s*$")
WINDOWED_METRICS = LATENCY_METRICS + ("error_rate", "throughput")
_SPEC_KEYS = {"budget", "abort", "abort_after"}


@dataclass(frozen=True)
class Budget:
    text: str  # as written, e.g. "p95 < 250ms"
    metric: str
    op: str
    threshold: float  # ms for latency metrics, s for times, a fraction for the ratios
    window_s: int | None = None  # judged over every sliding window of this many seconds
    abort: bool = False  # a breach stops the run (cli/verdict/abort.py)
    abort_after_s: float = 0.0  # not before this many seconds into a scenario

    @property
    def is_latency(self) -> bool:
        return self.metric in LATENCY_METRICS

    @property
    def unit(self) -> str:
        return "ms" if self.is_latency else "s" if self.metric in TIME_METRICS else "ratio"

    @property
    def upper(self) -> bool:
        """An upper bound (`<`, `<=`): the worst value is the highest."""
        return self.op.startswith("<")

    def holds(self, value: float) -> bool:
        return _OPS[self.op](value, self.threshold)

    def __str__(self) -> str:
        return self.text


def _ratio(text: str) -> float:
    if text.endswith("%"):
        return float(text[:-1]) / 100
    return float(text)


def parse_budget(text: str) -> Budget:
    """The budget in `text`; raises ValueError with a readable message."""
    match = _EXPR.match(text)
    if not match:
        raise ValueError(f"not a budget like 'p95 < 250ms' or 'error_rate < 1%' (got {text!r})")
    metric, op, raw, over = match.groups()
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r} in {text!r}; one of {', '.join(METRICS)}")
    try:
        if metric in LATENCY_METRICS:
            threshold = parse_duration(raw) * 1000
        elif metric in TIME_METRICS:
            threshold = parse_duration(raw)
        else:
            threshold = _ratio(raw)
    except ValueError:
        unit = (
            "a latency like 250ms or 1s"
            if metric in LATENCY_METRICS
            else "a duration like 90s or 3m"
            if metric in TIME_METRICS
            else "a percentage like 1%"
        )
        raise ValueError(f"threshold {raw!r} in {text!r} is not {unit}") from None
    if threshold < 0:
        raise ValueError(f"threshold in {text!r} must be >= 0")
    budget = Budget(text=" ".join(text.split()), metric=metric, op=op, threshold=threshold)
    return budget if over is None else replace(budget, window_s=_window(over, budget))


def _window(text: str, budget: Budget) -> int:
    if budget.metric not in WINDOWED_METRICS:
        raise ValueError(
            f"{budget.text!r}: a window applies to {', '.join(WINDOWED_METRICS)}, "
            f"not {budget.metric}"
        )
    try:
        seconds = parse_duration(text)
    except ValueError:
        raise ValueError(f"window {text!r} in {budget.text!r} is not a duration like 30s") from None
    if seconds < 1 or seconds != int(seconds):
        raise ValueError(f"window in {budget.text!r} must be whole seconds, at least 1s")
    return int(seconds)


def budget_from(value: Any) -> Budget:
    """A budget as a suite writes it: a string, or `{budget: STR, abort: BOOL, abort_after: D}`."""
    if isinstance(value, Budget):
        return value
    if isinstance(value, str):
        return parse_budget(value)
    if not isinstance(value, dict) or not isinstance(value.get("budget"), str):
        raise ValueError(
            f"a budget is a string like 'p95 < 250ms', or a mapping with budget: (got {value!r})"
        )
    unknown = sorted(set(value) - _SPEC_KEYS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} in a budget; one of {sorted(_SPEC_KEYS)}")
    budget = parse_budget(value["budget"])
    abort, after = value.get("abort", False), value.get("abort_after", 0)
    if not isinstance(abort, bool):
        raise ValueError(f"abort: expected true or false (got {abort!r})")
    try:
        after_s = parse_duration(after) if isinstance(after, str) else float(after)
    except (TypeError, ValueError):
        raise ValueError(f"abort_after: not a duration like 20s (got {after!r})") from None
    if after_s < 0:
        raise ValueError("abort_after: must be >= 0")
    if after_s and not abort:
        raise ValueError("abort_after: only with abort: true")
    return replace(budget, abort=abort, abort_after_s=after_s)


def value_text(metric: str, value: float | None) -> str:
    """How a measured value reads next to its budget: `231.4ms`, `0.42%`."""
    if value is None:
        return "n/a"
    if metric in LATENCY_METRICS:
        return f"{value:.1f}ms" if value < 10_000 else f"{value / 1000:.2f}s"
    if metric in TIME_METRICS:
        return f"{value:.1f}s"
    return f"{value * 100:.2f}%"


def judge_budget(budget: Budget, stats: Mapping[str, float | None]) -> tuple[str, float | None]:
    """("pass" | "fail" | "invalid", the measured value). Invalid: the metric was not measured."""
    value = stats.get(budget.metric)
    if value is None:
        return INVALID, None
    return (PASS if budget.holds(value) else FAIL), value
