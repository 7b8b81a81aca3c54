"""What the balancer counts, per wall-clock second: the raw material of its CloudWatch metrics
(AWS/ApplicationELB RequestCount, TargetResponseTime, HTTPCode_Target_*, HTTPCode_ELB_5XX_Count)
and of the server side of every report (the percentiles moto cannot answer come from here).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from perfenv.cli.verdict.measurement import HIST_HIGHEST_US, HIST_LOWEST_US, HIST_SIGNIFICANT_DIGITS

KEEP_S = 600  # seconds of buckets kept for a reader that fell behind


def new_histogram() -> HdrHistogram:
    return HdrHistogram(HIST_LOWEST_US, HIST_HIGHEST_US, HIST_SIGNIFICANT_DIGITS)


@dataclass(kw_only=True)
class Second:
    t: int  # epoch second
    requests: int = 0  # every request the listener received (RequestCount)
    target_codes: dict[str, int] = field(default_factory=dict)  # "2XX".."5XX" from targets
    elb_5xx: int = 0  # 502/503/504 the balancer answered itself
    histogram: HdrHistogram = field(default_factory=new_histogram)  # target response time, us
    by_target: dict[str, int] = field(default_factory=dict)  # requests per target id

    def record(self) -> dict[str, Any]:
        return {
            "t": self.t,
            "requests": self.requests,
            "target_codes": dict(self.target_codes),
            "elb_5xx": self.elb_5xx,
            "by_target": dict(self.by_target),
            "histogram": self.histogram.encode().decode()
            if self.histogram.get_total_count()
            else "",
        }


class Stats:
    def __init__(self) -> None:
        self.seconds: dict[int, Second] = {}

    def _now(self) -> Second:
        t = int(time.time())
        second = self.seconds.get(t)
        if second is None:
            second = self.seconds[t] = Second(t=t)
            for old in [k for k in self.seconds if k < t - KEEP_S]:
                del self.seconds[old]
        return second

    def target_response(self, target: str, status: int, elapsed_s: float) -> None:
        second = self._now()
        second.requests += 1
        key = f"{status // 100}XX"
        second.target_codes[key] = second.target_codes.get(key, 0) + 1
        second.by_target[target] = second.by_target.get(target, 0) + 1
        second.histogram.record_value(
            max(HIST_LOWEST_US, min(HIST_HIGHEST_US, int(elapsed_s * 1e6)))
        )

    def elb_response(self, status: int, target: str | None) -> None:
        """An answer of the balancer's own. RequestCount counts it only once a target was chosen
        (a 503 for want of targets is not a request on AWS either)."""
        second = self._now()
        if target is not None:
            second.requests += 1
            second.by_target[target] = second.by_target.get(target, 0) + 1
        if status >= 500:
            second.elb_5xx += 1

    def completed_since(self, since: int) -> list[dict[str, Any]]:
        """Finished seconds after `since` (epoch), oldest first; the current one is still open."""
        now = int(time.time())
        return [self.seconds[t].record() for t in sorted(self.seconds) if since < t < now]
