"""Synthetic measurements for tests: what the load engine would hand the judge."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from hdrh.histogram import HdrHistogram

# Re-exported: tests import it from here; it lives in cli so that benchmarks need no test code.
from perfenv.cli.compare.scaling import scaled_results as scaled_results
from perfenv.cli.verdict.measurement import (
    EndpointStats,
    GeneratorHealth,
    ScenarioMeasurement,
    Window,
)

Latency = Callable[[int, random.Random], float]  # (second, rng) -> latency in ms


def lognormal(median_ms: float, sigma: float = 0.3) -> Latency:
    import math

    mu = math.log(median_ms)
    return lambda _t, rng: rng.lognormvariate(mu, sigma)


def measurement(
    scenario: str,
    rates: Sequence[float],
    *,
    latency: Latency | None = None,
    error_rate: Callable[[int], float] | float = 0.0,
    achieved: float = 1.0,
    warmup_s: int = 0,
    valid: bool = True,
    seed: int = 1,
) -> ScenarioMeasurement:
    """Windows of recorded latencies: `rates[t]` arrivals in second t (times `achieved`)."""
    rng = random.Random(seed)
    latency = latency or lognormal(20.0)
    total = HdrHistogram(1, 60_000_000, 3)
    windows = []
    errors_total = 0
    for t, rate in enumerate(rates):
        hist = HdrHistogram(1, 60_000_000, 3)
        planned = round(rate)
        sent = round(planned * achieved)
        rate_err = error_rate(t) if callable(error_rate) else error_rate
        errors = sum(rng.random() < rate_err for _ in range(sent))
        for _ in range(sent):
            value = max(1, int(latency(t, rng) * 1000))
            hist.record_value(value)
            if t >= warmup_s:
                total.record_value(value)
        if t >= warmup_s:
            errors_total += errors
        windows.append(
            Window(
                t=t,
                planned=planned,
                sent=sent,
                ok=sent - errors,
                errors=errors,
                histogram=hist.encode().decode(),
            )
        )
    planned_all = round(sum(rates))
    achieved_all = sum(w.sent for w in windows)
    return ScenarioMeasurement(
        scenario=scenario,
        started_at="2026-11-27T12:00:00+00:00",
        warmup_s=warmup_s,
        windows=tuple(windows),
        endpoints={
            "GET /items": EndpointStats(
                count=total.get_total_count(),
                errors=errors_total,
                histogram=total.encode().decode(),
            )
        },
        errors_by_kind={"HTTP 503": errors_total} if errors_total else {},
        generator=GeneratorHealth(
            valid=valid,
            reason="" if valid else f"planned {planned_all} requests, sent {achieved_all}",
            planned=planned_all,
            achieved=achieved_all,
            cpu_max_percent=40.0 if valid else 100.0,
        ),
    )
