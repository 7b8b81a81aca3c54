"""What the scale and failover kinds read: what the environment did during a run, beside the
client's per-second windows.

`Events` is what the target reports for one run, in seconds since the scenario's start; a time
the environment never reached is None, never a guess. From them and the windows:

- scale: the breach is the load step. `scale_out_time` is from the breach to the first
  scale-out activity, `in_service_time` to the most instances in service after it, and
  `recovery_time` until p95 was back under its budget (and stayed there for `HOLD_S`).
- failover: `detection_time` is from the loss to the balancer no longer sending to the lost
  instance, `replacement_time` to a replacement in service, `recovery_time` until the error
  rate and p95 were back (for `HOLD_S`), and `failover_errors` the share of requests between
  the loss and the recovery (the end, if it never recovered) that failed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from perfenv.cli.verdict.analysis import recovery_threshold_ms
from perfenv.cli.verdict.budgets import Budget
from perfenv.cli.verdict.histograms import merged
from perfenv.cli.verdict.measurement import ScenarioMeasurement, Window
from perfenv.cli.verdict.scenarios import FailoverScenario, ScaleScenario
from perfenv.cli.verdict.stats import latency_stats, window_stats

HOLD_S = 5  # a recovery counts once it has held this many seconds
ERROR_RATE_RECOVERED = 0.01  # without an error_rate budget, "back" means at most 1% errors


@dataclass(frozen=True, kw_only=True)
class Events:
    scale_outs: tuple[float, ...] = ()  # starts of scale-out activities
    in_service: tuple[tuple[float, int], ...] = ()  # (t, in-service count) at each change
    lost_instance: str | None = None
    lost_at: float | None = None
    stopped_sending_at: float | None = None  # the lost target left the balancer's healthy set
    replaced_at: float | None = None  # a replacement was in service
    alarms: tuple[dict[str, Any], ...] = ()  # transitions: {"t", "alarm", "from", "to"}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Events:
        return cls(
            scale_outs=tuple(data.get("scale_outs") or ()),
            in_service=tuple((float(t), int(n)) for t, n in data.get("in_service") or ()),
            lost_instance=data.get("lost_instance"),
            lost_at=data.get("lost_at"),
            stopped_sending_at=data.get("stopped_sending_at"),
            replaced_at=data.get("replaced_at"),
            alarms=tuple(data.get("alarms") or ()),
        )


def _since(at: float | None, start: float) -> float | None:
    return None if at is None else round(at - start, 3)


def _recovered_at(
    windows: Sequence[Window], start: int, p95_ms: float | None, error_rate: float | None
) -> int | None:
    """The first second from `start` that begins HOLD_S seconds within the limits."""
    ok: list[int] = []
    for w in sorted(windows, key=lambda w: w.t):
        if w.t < start:
            continue
        done = w.ok + w.errors
        p95 = latency_stats(merged([w.histogram]))["p95"]
        fine = (p95_ms is None or (p95 is not None and p95 <= p95_ms)) and (
            error_rate is None or (done > 0 and w.errors / done <= error_rate)
        )
        ok = ok + [w.t] if fine else []
        if len(ok) >= HOLD_S:
            return ok[0]
    return None


def _error_limit(budgets: Sequence[Budget]) -> float:
    limits = [b.threshold for b in budgets if b.metric == "error_rate" and b.op in ("<", "<=")]
    return min(limits) if limits else ERROR_RATE_RECOVERED


def scale_analysis(
    scenario: ScaleScenario, budgets: Sequence[Budget], run: ScenarioMeasurement, events: Events
) -> dict[str, Any]:
    breach = scenario.step_s
    before = [n for t, n in events.in_service if t <= breach]
    after = [(t, n) for t, n in events.in_service if t > breach]
    count_before = before[-1] if before else None
    most = max((n for _t, n in after), default=count_before)
    grew = [t for t, n in after if count_before is not None and n == most and n > count_before]
    outs = [t for t in events.scale_outs if t >= breach]
    base = window_stats([w for w in run.windows if run.warmup_s <= w.t < breach])
    threshold = recovery_threshold_ms(budgets, base)
    recovered = _recovered_at(run.windows, breach, threshold, None)
    metrics = {
        "scale_out_time": _since(outs[0] if outs else None, breach),
        "in_service_time": _since(grew[0] if grew else None, breach),
        "recovery_time": _since(recovered, breach),
    }
    return {
        "breach_s": breach,
        "scale_out_time_s": metrics["scale_out_time"],
        "in_service_before": count_before,
        "in_service_after": most,
        "in_service_time_s": metrics["in_service_time"],
        "recovery_threshold_ms": threshold,
        "recovery_time_s": metrics["recovery_time"],
        "scaled_out": bool(outs),
        "metrics": metrics,
        "events": events.as_dict(),
    }


def failover_analysis(
    scenario: FailoverScenario, budgets: Sequence[Budget], run: ScenarioMeasurement, events: Events
) -> dict[str, Any]:
    lost = events.lost_at if events.lost_at is not None else float(scenario.fail_s)
    start = int(lost)
    base = window_stats([w for w in run.windows if run.warmup_s <= w.t < start])
    threshold = recovery_threshold_ms(budgets, base)
    recovered = _recovered_at(run.windows, start, threshold, _error_limit(budgets))
    end = recovered if recovered is not None else max((w.t + 1 for w in run.windows), default=start)
    during = window_stats([w for w in run.windows if start <= w.t < max(end, start + 1)])
    metrics = {
        "failover_errors": during["error_rate"],
        "detection_time": _since(events.stopped_sending_at, lost),
        "replacement_time": _since(events.replaced_at, lost),
        "recovery_time": _since(recovered, lost),
    }
    return {
        "lost_instance": events.lost_instance,
        "lost_at_s": lost,
        "errors_during_event": during["errors"],
        "requests_during_event": (during["ok"] or 0) + (during["errors"] or 0),
        "failover_errors": metrics["failover_errors"],
        "detection_time_s": metrics["detection_time"],
        "replacement_time_s": metrics["replacement_time"],
        "recovery_threshold_ms": threshold,
        "recovery_time_s": metrics["recovery_time"],
        "recovered": recovered is not None,
        "metrics": metrics,
        "events": events.as_dict(),
    }


def worst_behaviour(analyses: list[dict[str, Any]]) -> dict[str, Any]:
    """With repeats, the run that took longest to recover (never recovering is the longest)."""
    if len(analyses) <= 1:
        return analyses[0] if analyses else {}

    def slowness(a: dict[str, Any]) -> float:
        value = a["metrics"].get("recovery_time")
        return float("inf") if value is None else float(value)

    pick: dict[str, Any] = max(analyses, key=slowness)
    return {**pick, "runs": len(analyses)}
