"""The server side of a run, read through one interface on both targets.

A `TelemetryReader` answers, for a window of wall-clock time, what the load balancer and the
fleet saw: requests, target and balancer 5xx, target response time percentiles, CPU per
instance, in-service and healthy counts, as a series of periods plus totals. It returns plain
data (results.json's `server` section is built from it without importing this layer):

    {"source": "balancer" | "cloudwatch", "period_s": int,
     "totals": {"requests", "target_5xx", "elb_5xx", "p50_ms", "p95_ms", "p99_ms"},
     "series": [{"at": epoch s, "requests", "target_5xx", "elb_5xx", "p50_ms", "p95_ms",
                 "p99_ms", "in_service", "healthy", "cpu": {instance id: percent}}]}

Locally the balancer's own per-second journal answers (percentiles included: moto cannot);
on AWS, CloudWatch GetMetricData does (percentile statistics included).
"""

from __future__ import annotations

from typing import Any, Protocol

SERIES_KEYS = ("requests", "target_5xx", "elb_5xx", "p50_ms", "p95_ms", "p99_ms")


class TelemetryReader(Protocol):
    def read(self, start: float, end: float) -> dict[str, Any]:
        """The server side from `start` to `end` (epoch seconds)."""
        ...

    def settle(self, end: float) -> None:
        """Wait (bounded) until the data for everything before `end` can be read."""
        ...


def empty_point(at: int) -> dict[str, Any]:
    return {
        "at": at,
        "requests": 0,
        "target_5xx": 0,
        "elb_5xx": 0,
        "p50_ms": None,
        "p95_ms": None,
        "p99_ms": None,
        "in_service": None,
        "healthy": None,
        "cpu": {},
    }
