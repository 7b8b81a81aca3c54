"""One alarm evaluation, as CloudWatch does it each period ("Evaluating an alarm").

CloudWatch reads more datapoints than `EvaluationPeriods` (the evaluation range; its examples
read 5 for 3, so the range here is N + 2 periods ending at the last complete period) and then:

- with at least N datapoints present, it judges the N most recent present ones; missing-data
  treatment plays no part;
- with none present: `missing` gives INSUFFICIENT_DATA, `ignore` keeps the state, `breaching`
  ALARM, `notBreaching` OK;
- with some but fewer than N: `breaching` / `notBreaching` fill the shortfall (as few filled
  points as possible) and judge N points; `missing` / `ignore` judge what is there: ALARM with
  at least M breaching, OK with any non-breaching, and otherwise (only breaching points, fewer
  than M) `missing` alarms when the oldest breaching point is at least M periods old and is
  INSUFFICIENT_DATA when not, while `ignore` keeps the state.

The two tables of "How alarm state is evaluated when data is missing" are its tests. ALARM needs
M breaching of the N judged (datapoints to alarm), OK needs fewer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from perfenv.cli.targets.local.alarms import metric_math
from perfenv.cli.targets.local.alarms.model import (
    ALARM,
    INSUFFICIENT,
    OK,
    Alarm,
    MetricStat,
    Unsupported,
)

EXTRA_PERIODS = 2  # the evaluation range beyond EvaluationPeriods ("5 for 3" in AWS's tables)
Point = tuple[datetime, float | None]


class MetricSource(Protocol):
    def series(self, stat: MetricStat, start: datetime, end: datetime) -> dict[datetime, float]:
        """{period start: value} for the periods of `stat` starting in [start, end)."""
        ...


@dataclass(frozen=True)
class Evaluation:
    state: str
    reason: str
    reason_data: dict[str, Any] = field(default_factory=dict)
    changed: bool = False

    @property
    def reason_data_json(self) -> str:
        return json.dumps(self.reason_data, separators=(",", ":"))


def window(alarm: Alarm, now: datetime) -> list[datetime]:
    """Start times of the evaluation range's periods, oldest first, the last one complete."""
    period = alarm.period
    epoch = int(now.timestamp())
    end = now - timedelta(seconds=epoch % period, microseconds=now.microsecond)
    count = alarm.evaluation_periods + EXTRA_PERIODS
    return [end - timedelta(seconds=period * (count - i)) for i in range(count)]


def minimum_samples(percentile: float) -> float:
    """Below this many samples a percentile alarm with `ignore` waits ("low data samples")."""
    share = percentile / 100
    return 10 / (1 - share) if share >= 0.5 else 10 / share


def datapoints(alarm: Alarm, source: MetricSource, now: datetime) -> list[Point]:
    """The evaluation range's datapoints, oldest first; None where a period has none."""
    periods = window(alarm, now)
    start, end = periods[0], periods[-1] + timedelta(seconds=alarm.period)
    result = alarm.result
    if not alarm.is_math and result.metric is not None:
        values = source.series(result.metric, start, end)
    else:
        values = _math(alarm, source, periods, start, end)
    return [(t, values.get(t)) for t in periods]


def _math(
    alarm: Alarm, source: MetricSource, periods: list[datetime], start: datetime, end: datetime
) -> dict[datetime, float]:
    data = {q.id: source.series(q.metric, start, end) for q in alarm.queries if q.metric}
    known = {q.id: q.metric.period for q in alarm.queries if q.metric}
    pending = [q for q in alarm.queries if q.metric is None and q.expression]
    while pending:  # expressions may use each other, in any order
        ready = [q for q in pending if not _uses(q.expression or "", {p.id for p in pending})]
        if not ready:
            raise Unsupported(f"alarm {alarm.name}: its expressions refer to each other in a loop")
        for query in ready:
            data[query.id] = metric_math.evaluate(query.expression or "", data, periods, known)
            pending.remove(query)
    return data[alarm.result.id]


def _uses(expression: str, ids: set[str]) -> bool:
    words = set(expression.replace("(", " ").replace(")", " ").replace(",", " ").split())
    return bool({w.strip("+-*/^[]<>=!&|") for w in words} & ids)


def evaluate(alarm: Alarm, source: MetricSource, now: datetime) -> Evaluation:
    """The alarm's state now, read from `source`."""
    points = datapoints(alarm, source, now)
    metric = alarm.result.metric
    if (
        not alarm.is_math
        and metric is not None
        and metric.is_percentile
        and alarm.low_sample_percentiles == "ignore"
    ):
        counts = source.series(metric.with_stat("SampleCount"), points[0][0], now)
        recent = [t for t, _v in points[-alarm.evaluation_periods :]]
        if sum(counts.get(t, 0.0) for t in recent) < minimum_samples(metric.percentile):
            return Evaluation(state=alarm.state, reason=alarm.state_reason)
    return decide(alarm, points, now)


def decide(alarm: Alarm, points: Sequence[Point], now: datetime) -> Evaluation:
    """The state `points` (the evaluation range, oldest first) give, with AWS's reason."""
    n, m = alarm.evaluation_periods, alarm.datapoints_to_alarm
    present = [(age, t, v) for age, (t, v) in enumerate(reversed(points), 1) if v is not None]
    treat = alarm.treat_missing
    judged = [(t, v) for _age, t, v in present[:n]]
    if not present:
        if treat == "missing":
            return _result(alarm, INSUFFICIENT, _unknown(len(points)), points, [], now)
        if treat == "ignore":
            return _result(alarm, alarm.state, alarm.state_reason, points, [], now)
        state = ALARM if treat == "breaching" else OK
        return _result(alarm, state, _all_missing(n, treat), points, [], now)
    breaching = sum(1 for _t, v in judged if alarm.breaches(v))
    if len(present) >= n:
        state = ALARM if breaching >= m else OK
        return _result(alarm, state, _crossed(alarm, state, judged), points, judged, now)
    shortfall = n - len(present)
    if treat in ("breaching", "notBreaching"):
        filled = shortfall if treat == "breaching" else 0
        state = ALARM if breaching + filled >= m else OK
        reason = _crossed(alarm, state, judged, shortfall, treat)
        return _result(alarm, state, reason, points, judged, now)
    if breaching >= m:
        state = ALARM
    elif breaching < len(present):
        state = OK
    elif treat == "missing" and present[-1][0] >= m:  # the oldest breaching point is old enough
        state = ALARM
    elif treat == "missing":
        return _result(alarm, INSUFFICIENT, _unknown(len(points) - len(present)), points, [], now)
    else:
        return _result(alarm, alarm.state, alarm.state_reason, points, [], now)
    return _result(alarm, state, _crossed(alarm, state, judged), points, judged, now)


def _stamp(t: datetime) -> str:
    return t.strftime("%d/%m/%y %H:%M:%S")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _crossed(
    alarm: Alarm,
    state: str,
    judged: list[tuple[datetime, float]],
    shortfall: int = 0,
    treat: str = "",
) -> str:
    """ "Threshold Crossed: ..." as CloudWatch words it; `judged` newest first."""
    alarming = state == ALARM
    shown = [(t, v) for t, v in judged if alarm.breaches(v) == alarming]
    verb = alarm.comparison_words if alarming else f"not {alarm.comparison_words}"
    listed = ", ".join(f"{v!r} ({_stamp(t)})" for t, v in shown)
    total = len(judged) + shortfall
    were = "was" if len(shown) == 1 else "were"
    if len(shown) == total:
        text = f"Threshold Crossed: {_plural(total, 'datapoint')} [{listed}] {were} {verb}"
    else:
        need = alarm.datapoints_to_alarm if alarming else total - alarm.datapoints_to_alarm + 1
        old = alarm.state if alarm.state != state else (OK if alarming else ALARM)
        text = (
            f"Threshold Crossed: {len(shown)} out of the last {total} datapoints [{listed}]"
            f" {were} {verb}"
        )
        text += f" the threshold ({alarm.threshold!r}) (minimum {_plural(need, 'datapoint')}"
        text += f" for {old} -> {state} transition)"
        verb = ""
    if verb:
        text += f" the threshold ({alarm.threshold!r})"
    if shortfall:
        kind = "Breaching" if treat == "breaching" else "NonBreaching"
        were = "was" if shortfall == 1 else "were"
        text += f" and {_plural(shortfall, 'missing datapoint')} {were} treated as [{kind}]"
    return text + "."


def _all_missing(n: int, treat: str) -> str:
    kind = "Breaching" if treat == "breaching" else "NonBreaching"
    were = "was" if n == 1 else "were"
    return (
        f"Threshold Crossed: no datapoints were received for {_plural(n, 'period')} and"
        f" {_plural(n, 'missing datapoint')} {were} treated as [{kind}]."
    )


def _unknown(count: int) -> str:
    were = "was" if count == 1 else "were"
    return f"Insufficient Data: {_plural(count, 'datapoint')} {were} unknown."


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"


def _result(
    alarm: Alarm,
    state: str,
    reason: str,
    points: Sequence[Point],
    judged: list[tuple[datetime, float]],
    now: datetime,
) -> Evaluation:
    data: dict[str, Any] = {"version": "1.0", "queryDate": _iso(now)}
    if points:
        data["startDate"] = _iso(points[0][0])
    metric = alarm.result.metric
    if not alarm.is_math and metric is not None:
        data["statistic" if not metric.is_percentile else "extendedStatistic"] = metric.stat
        data["period"] = alarm.period
    data["recentDatapoints"] = [v for _t, v in points if v is not None]
    data["threshold"] = alarm.threshold
    data["evaluatedDatapoints"] = [{"timestamp": _iso(t), "value": v} for t, v in judged]
    return Evaluation(state=state, reason=reason, reason_data=data, changed=state != alarm.state)
