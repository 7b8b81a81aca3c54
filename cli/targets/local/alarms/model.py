"""A metric alarm as the local evaluator reads it, parsed from DescribeAlarms' own shape.

Only what CloudWatch evaluates is kept. An alarm the evaluator cannot evaluate faithfully
(anomaly detection bands, Metrics Insights queries) raises `Unsupported` naming why, so the
caller can report it rather than guess a state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

OK, ALARM, INSUFFICIENT = "OK", "ALARM", "INSUFFICIENT_DATA"
STATES = (OK, ALARM, INSUFFICIENT)
COMPARISONS = {
    "GreaterThanThreshold": "greater than",
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")
BASIC_STATS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")


class Unsupported(ValueError):
    """The alarm uses something the local evaluator does not evaluate (the message says what)."""


@dataclass(frozen=True)
class MetricStat:
    """One metric with the statistic and period an alarm reads it with."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str  # SampleCount | Average | Sum | Minimum | Maximum | pNN(.N)
    period: int
    unit: str | None = None

    @property
    def is_percentile(self) -> bool:
        return self.stat not in BASIC_STATS

    @property
    def percentile(self) -> float:
        """95.0 for "p95"; Unsupported for trimmed means and other extended statistics."""
        if not self.stat.startswith("p"):
            raise Unsupported(f"statistic {self.stat} (only percentiles pNN are evaluated)")
        try:
            value = float(self.stat[1:])
        except ValueError:
            raise Unsupported(f"statistic {self.stat}") from None
        if not 0 < value < 100:
            raise Unsupported(f"statistic {self.stat}")
        return value

    def with_stat(self, stat: str) -> MetricStat:
        return MetricStat(self.namespace, self.name, self.dimensions, stat, self.period, self.unit)

    def as_aws(self) -> dict[str, Any]:
        """A MetricStat as GetMetricData takes it."""
        stat: dict[str, Any] = {
            "Metric": {
                "Namespace": self.namespace,
                "MetricName": self.name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions],
            },
            "Period": self.period,
            "Stat": self.stat,
        }
        if self.unit:
            stat["Unit"] = self.unit
        return stat


@dataclass(frozen=True)
class Query:
    """One entry of a metric math alarm's Metrics: a metric or an expression over others."""

    id: str
    metric: MetricStat | None = None
    expression: str | None = None
    return_data: bool = False
    label: str | None = None


@dataclass(frozen=True)
class Alarm:
    name: str
    arn: str
    queries: tuple[Query, ...]  # a single-metric alarm is one query, its result
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    comparison: str
    threshold: float
    treat_missing: str = "missing"
    low_sample_percentiles: str = "evaluate"  # evaluate | ignore
    description: str = ""
    actions_enabled: bool = True
    actions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    state: str = INSUFFICIENT
    state_reason: str = ""
    configuration_updated: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def result(self) -> Query:
        """The query whose values are compared with the threshold."""
        return next(q for q in self.queries if q.return_data)

    @property
    def is_math(self) -> bool:
        return len(self.queries) > 1 or self.result.expression is not None

    @property
    def comparison_words(self) -> str:
        return COMPARISONS[self.comparison]

    def breaches(self, value: float) -> bool:
        if self.comparison.startswith("GreaterThanOrEqual"):
            return value >= self.threshold
        if self.comparison.startswith("GreaterThan"):
            return value > self.threshold
        if self.comparison.startswith("LessThanOrEqual"):
            return value <= self.threshold
        return value < self.threshold

    @classmethod
    def from_aws(cls, item: Mapping[str, Any]) -> Alarm:
        """The alarm in one `MetricAlarms` entry of DescribeAlarms; Unsupported if it cannot be."""
        name = str(item["AlarmName"])
        comparison = str(item.get("ComparisonOperator", ""))
        if comparison not in COMPARISONS:
            raise Unsupported(f"alarm {name}: comparison {comparison or 'none'}")
        if item.get("ThresholdMetricId") or item.get("Threshold") is None:
            raise Unsupported(f"alarm {name}: anomaly detection thresholds")
        treat = str(item.get("TreatMissingData") or "missing")
        if treat not in TREATMENTS:
            raise Unsupported(f"alarm {name}: TreatMissingData {treat}")
        queries = _queries(name, item)
        period = int(item.get("Period") or _math_period(name, queries))
        evaluation = int(item["EvaluationPeriods"])
        return cls(
            name=name,
            arn=str(item.get("AlarmArn", "")),
            queries=queries,
            period=period,
            evaluation_periods=evaluation,
            datapoints_to_alarm=int(item.get("DatapointsToAlarm") or evaluation),
            comparison=comparison,
            threshold=float(item["Threshold"]),
            treat_missing=treat,
            low_sample_percentiles=str(item.get("EvaluateLowSampleCountPercentile") or "evaluate"),
            description=str(item.get("AlarmDescription") or ""),
            actions_enabled=bool(item.get("ActionsEnabled", True)),
            actions={
                OK: tuple(item.get("OKActions") or ()),
                ALARM: tuple(item.get("AlarmActions") or ()),
                INSUFFICIENT: tuple(item.get("InsufficientDataActions") or ()),
            },
            state=str(item.get("StateValue") or INSUFFICIENT),
            state_reason=str(item.get("StateReason") or ""),
            configuration_updated=item.get("AlarmConfigurationUpdatedTimestamp"),
            raw=item,
        )


def _dimensions(raw: Sequence[Mapping[str, Any]] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(d["Name"]), str(d["Value"])) for d in raw or ()))


def _queries(name: str, item: Mapping[str, Any]) -> tuple[Query, ...]:
    metrics = item.get("Metrics") or ()
    if not metrics:
        stat = item.get("ExtendedStatistic") or item.get("Statistic")
        if not stat or not item.get("MetricName"):
            raise Unsupported(f"alarm {name}: no metric and no metric math")
        return (
            Query(
                id="m1",
                return_data=True,
                metric=MetricStat(
                    namespace=str(item["Namespace"]),
                    name=str(item["MetricName"]),
                    dimensions=_dimensions(item.get("Dimensions")),
                    stat=str(stat),
                    period=int(item["Period"]),
                    unit=item.get("Unit"),
                ),
            ),
        )
    out = []
    for query in metrics:
        stat = query.get("MetricStat")
        metric = None
        if stat:
            raw = stat["Metric"]
            metric = MetricStat(
                namespace=str(raw["Namespace"]),
                name=str(raw["MetricName"]),
                dimensions=_dimensions(raw.get("Dimensions")),
                stat=str(stat["Stat"]),
                period=int(stat["Period"]),
                unit=stat.get("Unit"),
            )
        elif not query.get("Expression"):
            raise Unsupported(f"alarm {name}: query {query.get('Id')} has no metric or expression")
        out.append(
            Query(
                id=str(query["Id"]),
                metric=metric,
                expression=query.get("Expression"),
                # PutMetricAlarm wants ReturnData False on all but one; an omitted one is
                # taken as False when another says True (providers and moto omit it)
                return_data=query.get("ReturnData") is True
                or ("ReturnData" not in query and not _any_true(metrics)),
                label=query.get("Label"),
            )
        )
    returned = [q for q in out if q.return_data]
    if len(returned) != 1:
        raise Unsupported(f"alarm {name}: exactly one query must return data ({len(returned)} do)")
    return tuple(out)


def _any_true(metrics: Sequence[Mapping[str, Any]]) -> bool:
    return any(q.get("ReturnData") is True for q in metrics)


def _math_period(name: str, queries: tuple[Query, ...]) -> int:
    periods = {q.metric.period for q in queries if q.metric is not None}
    if len(periods) != 1:
        raise Unsupported(f"alarm {name}: metrics of a math alarm must share one period")
    return periods.pop()
