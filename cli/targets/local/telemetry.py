"""The local target's telemetry reader: the stack's journal (see `controller/journal.py`)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from perfenv.cli.targets.local.controller import journal
from perfenv.cli.targets.telemetry import empty_point
from perfenv.cli.verdict.histograms import merged
from perfenv.cli.verdict.stats import latency_stats

SETTLE_TIMEOUT_S = 5.0
SETTLE_POLL_S = 0.05


class JournalTelemetry:
    def __init__(self, path: Path) -> None:
        self.path = path

    def settle(self, end: float) -> None:
        """The controller journals a second once it is over: wait for the one holding `end`."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while time.monotonic() < deadline:
            if journal.read(self.path, end, end + 3600):
                return
            time.sleep(SETTLE_POLL_S)

    def read(self, start: float, end: float) -> dict[str, Any]:
        # From the first whole second of the window: the second it starts in may hold requests
        # of what came before (a health check), and a generator takes longer than that to start.
        lines = journal.read(self.path, math.ceil(start), end)
        series = [_point(line) for line in lines]
        histograms = [lb["histogram"] for line in lines for lb in line["lb"].values()]
        stats = latency_stats(merged(histograms))
        return {
            "source": "balancer",
            "period_s": 1,
            "totals": {
                "requests": sum(p["requests"] for p in series),
                "target_5xx": sum(p["target_5xx"] for p in series),
                "elb_5xx": sum(p["elb_5xx"] for p in series),
                "p50_ms": stats["p50"],
                "p95_ms": stats["p95"],
                "p99_ms": stats["p99"],
            },
            "series": series,
        }


def _point(line: dict[str, Any]) -> dict[str, Any]:
    point = empty_point(int(line["t"]))
    listeners = list(line["lb"].values())
    point["requests"] = sum(lb["requests"] for lb in listeners)
    point["target_5xx"] = sum(lb["target_codes"].get("5XX", 0) for lb in listeners)
    point["elb_5xx"] = sum(lb["elb_5xx"] for lb in listeners)
    stats = latency_stats(merged(lb["histogram"] for lb in listeners))
    point.update(p50_ms=stats["p50"], p95_ms=stats["p95"], p99_ms=stats["p99"])
    point["in_service"] = sum(g["in_service"] for g in line["groups"].values())
    point["healthy"] = sum(lb["healthy"] for lb in listeners)
    point["cpu"] = dict(line["cpu"])
    return point
