"""CloudWatch's alarm evaluation for a local stack, run by its controller once per period.

Every alarm of the stack (the program's, and those target tracking creates) is read with
DescribeAlarms, scaled to the local clock (its periods divided by the time scale, as every
local period is), evaluated against the period just published, and moved with SetAlarmState
when its state changes; the emulator keeps the history and notifies the alarm's SNS topics.

Basic statistics come from the emulator's CloudWatch (GetMetricData). Percentiles, which moto
cannot compute, come from the balancer's own per-second histograms in the stack's telemetry
journal: the same requests, never an estimate of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from perfenv.cli.targets.local.alarms.evaluate import Evaluation, evaluate
from perfenv.cli.targets.local.alarms.metric_math import MathError
from perfenv.cli.targets.local.alarms.model import Alarm, MetricStat, Unsupported

REASON_LIMIT = 1023  # SetAlarmState's StateReason


def scaled(alarm: Alarm, time_scale: float) -> Alarm:
    """The alarm on the local clock: every period divided by the time scale (at least 1 s)."""

    def local(period: int) -> int:
        return max(1, round(period / time_scale))

    queries = tuple(
        replace(q, metric=replace(q.metric, period=local(q.metric.period))) if q.metric else q
        for q in alarm.queries
    )
    return replace(alarm, period=local(alarm.period), queries=queries)


class ApiSource:
    """Basic statistics from CloudWatch's GetMetricData."""

    def __init__(self, cloudwatch: Any) -> None:
        self.cloudwatch = cloudwatch

    def series(self, stat: MetricStat, start: datetime, end: datetime) -> dict[datetime, float]:
        if stat.is_percentile:
            raise Unsupported(f"{stat.name} {stat.stat}: percentiles are not in the emulator")
        answer = self.cloudwatch.get_metric_data(
            MetricDataQueries=[{"Id": "m", "MetricStat": stat.as_aws(), "ReturnData": True}],
            StartTime=start,
            EndTime=end,
        )
        out: dict[datetime, float] = {}
        for result in answer["MetricDataResults"]:
            for at, value in zip(result["Timestamps"], result["Values"], strict=True):
                at = at if at.tzinfo else at.replace(tzinfo=UTC)
                if start <= at < end:
                    out[at] = float(value)
        return out


class JournalPercentiles:
    """TargetResponseTime percentiles (and SampleCount) from the balancer's histograms in the
    stack's telemetry journal (one JSON line per second), read as it grows."""

    def __init__(self, path: Path, keep_s: int = 3600) -> None:
        self.path, self.keep_s = path, keep_s
        self.offset = 0
        self.seconds: dict[int, list[dict[str, Any]]] = {}  # epoch second -> lb entries

    def _read(self) -> None:
        try:
            with self.path.open("rb") as journal:
                journal.seek(self.offset)
                chunk = journal.read()
        except FileNotFoundError:
            return
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        for raw in complete.splitlines():
            line = json.loads(raw)
            self.seconds[int(line["t"])] = list(line.get("lb", {}).values())
        if self.seconds:
            newest = max(self.seconds)
            for t in [t for t in self.seconds if t < newest - self.keep_s]:
                del self.seconds[t]

    def series(self, stat: MetricStat, start: datetime, end: datetime) -> dict[datetime, float]:
        from perfenv.cli.verdict.histograms import merged

        if (stat.namespace, stat.name) != ("AWS/ApplicationELB", "TargetResponseTime"):
            raise Unsupported(f"{stat.name} {stat.stat}: no local source for this percentile")
        self._read()
        dims = dict(stat.dimensions)
        out: dict[datetime, float] = {}
        at = start
        while at < end:
            first, last = int(at.timestamp()), int(at.timestamp()) + stat.period
            encoded = [
                entry["histogram"]
                for t in range(first, last)
                for entry in self.seconds.get(t, ())
                if entry.get("histogram")
                and dims.get("LoadBalancer", entry.get("load_balancer"))
                == entry.get("load_balancer")
                and dims.get("TargetGroup", entry.get("target_group")) == entry.get("target_group")
            ]
            hist = merged(encoded)
            count = hist.get_total_count()
            if count:
                if stat.stat == "SampleCount":
                    out[at] = float(count)
                else:
                    out[at] = hist.get_value_at_percentile(stat.percentile) / 1e6  # seconds
            at += timedelta(seconds=stat.period)
        return out


class Routed:
    """Percentiles (and their sample counts) from one source, everything else from another."""

    def __init__(self, basic: Any, percentiles: Any) -> None:
        self.basic, self.percentiles = basic, percentiles
        self.percentile_metrics: set[tuple[str, str, tuple[tuple[str, str], ...]]] = set()

    def series(self, stat: MetricStat, start: datetime, end: datetime) -> dict[datetime, float]:
        key = (stat.namespace, stat.name, stat.dimensions)
        if stat.is_percentile:
            self.percentile_metrics.add(key)
            return dict(self.percentiles.series(stat, start, end))
        if stat.stat == "SampleCount" and key in self.percentile_metrics:
            return dict(self.percentiles.series(stat, start, end))
        return dict(self.basic.series(stat, start, end))


class AlarmEvaluator:
    """Evaluates the named alarms each period; `changes` keeps every transition it made."""

    def __init__(self, cloudwatch: Any, source: Any, time_scale: float) -> None:
        self.cloudwatch, self.source, self.time_scale = cloudwatch, source, time_scale
        self.names: set[str] = set()
        self.skipped: dict[str, str] = {}  # alarm -> why it is not evaluated locally
        self.changes: list[tuple[datetime, str, str, str]] = []  # (at, alarm, from, to)

    def watch(self, names: Iterable[str]) -> None:
        self.names.update(names)

    def _alarms(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        names = sorted(self.names)
        for i in range(0, len(names), 100):  # DescribeAlarms takes up to 100 names
            answer = self.cloudwatch.describe_alarms(
                AlarmNames=names[i : i + 100], AlarmTypes=["MetricAlarm"]
            )
            found += answer["MetricAlarms"]
        return found

    def period(self, start: int, period_s: int) -> list[Evaluation]:
        """The controller's period hook: evaluate as of the end of the period just published."""
        now = datetime.fromtimestamp(start + period_s, UTC)
        return self.evaluate_all(now)

    def evaluate_all(self, now: datetime) -> list[Evaluation]:
        changed = []
        for item in self._alarms():
            name = str(item["AlarmName"])
            try:
                alarm = scaled(Alarm.from_aws(item), self.time_scale)
                result = evaluate(alarm, self.source, now)
            except (Unsupported, MathError) as exc:
                self.skipped.setdefault(name, str(exc))
                continue
            if not result.changed:
                continue
            self.cloudwatch.set_alarm_state(
                AlarmName=name,
                StateValue=result.state,
                StateReason=result.reason[:REASON_LIMIT],
                StateReasonData=result.reason_data_json,
            )
            self.changes.append((now, name, alarm.state, result.state))
            changed.append(result)
        return changed


def alarm_names(resources: Sequence[Any]) -> list[str]:
    """The physical names of a stack's metric alarms, from its state records."""
    return [
        r.id
        for r in resources
        if r.type == "aws:cloudwatch/metricAlarm:MetricAlarm" and not (r.deleted or r.simulated)
    ]
