"""What perfenv's emulator answers for CloudWatch alarms where moto fakes or lacks an answer.

Installed into the emulator's own process (moto is extended there, never in the CLI's):

- a new alarm starts in INSUFFICIENT_DATA ("Unchecked: Initial alarm creation") as on AWS,
  where moto starts it in OK; creating or updating it is a ConfigurationUpdate history item;
- a state change through SetAlarmState (what the local evaluator calls, and what AWS's own
  SetAlarmState does too) is a StateUpdate history item and runs the new state's SNS actions:
  the notification is published to the topic (moto keeps it among the topic's sent
  notifications) and an Action history item records it;
- DescribeAlarmHistory, which moto lacks, answers from that history;
- a percentile statistic (p95) is computed from the values put with PutMetricData, nearest
  rank, where moto has no answer (its server fails to serialize one).

Only states that happened are served: nothing here invents a datapoint or a transition.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from perfenv.cli.targets.local.alarms.evaluate import Evaluation
from perfenv.cli.targets.local.alarms.model import INSUFFICIENT, Alarm, Unsupported
from perfenv.cli.targets.local.alarms.records import action_item, notifications, state_update

_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")
_history: dict[tuple[str, str], list[dict[str, Any]]] = {}
_lock = threading.Lock()
_originals: list[tuple[Any, str, Any]] = []  # (owner, attribute, what was there) to undo


def percentile(values: list[float], p: float) -> float | None:
    """The nearest-rank percentile `p` (0 < p < 100) of `values`; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def record(account: str, region: str, item: dict[str, Any]) -> None:
    with _lock:
        _history.setdefault((account, region), []).append(item)


def history(
    account: str,
    region: str,
    *,
    name: str | None = None,
    kind: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    oldest_first: bool = False,
) -> list[dict[str, Any]]:
    """History items as DescribeAlarmHistory filters them (newest first unless asked)."""
    with _lock:
        items = list(_history.get((account, region), ()))
    start, end = _aware(start), _aware(end)
    found = [
        i
        for i in items
        if (name is None or i["AlarmName"] == name)
        and (kind is None or i["HistoryItemType"] == kind)
        and (start is None or i["Timestamp"] >= start)
        and (end is None or i["Timestamp"] < end)
    ]
    found.sort(key=lambda i: i["Timestamp"], reverse=not oldest_first)
    return found


def _aware(t: datetime | None) -> datetime | None:
    return t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t


def aws_shape(alarm: Any) -> dict[str, Any]:
    """A moto alarm object as DescribeAlarms shows it (the fields the evaluator reads)."""

    def dims(items: list[Any]) -> list[dict[str, str]]:
        return [{"Name": d.name, "Value": d.value} for d in items]

    queries = []
    for q in alarm.metric_data_queries:
        entry: dict[str, Any] = {"Id": q.id}
        if q.return_data is not None:  # omitted: False when another query returns data
            entry["ReturnData"] = q.return_data in (True, "true", "True")
        if q.label:
            entry["Label"] = q.label
        if q.expression:
            entry["Expression"] = q.expression
        if q.metric_stat is not None:
            metric = q.metric_stat.metric
            entry["MetricStat"] = {
                "Metric": {
                    "Namespace": metric.namespace,
                    "MetricName": metric.metric_name,
                    "Dimensions": dims(metric.dimensions),
                },
                "Period": int(q.metric_stat.period),
                "Stat": q.metric_stat.stat,
            }
        queries.append(entry)
    return {
        "AlarmName": alarm.name,
        "AlarmArn": alarm.alarm_arn,
        "AlarmDescription": alarm.description,
        "ActionsEnabled": alarm.actions_enabled,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions or ()),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "StateValue": alarm.state_value,
        "StateReason": alarm.state_reason,
        "AlarmConfigurationUpdatedTimestamp": alarm.configuration_updated_timestamp,
        "Namespace": alarm.namespace,
        "MetricName": alarm.metric_name,
        "Dimensions": dims(alarm.dimensions),
        "Statistic": alarm.statistic,
        "ExtendedStatistic": alarm.extended_statistic,
        "Period": alarm.period,
        "EvaluationPeriods": alarm.evaluation_periods,
        "DatapointsToAlarm": alarm.datapoints_to_alarm,
        "Threshold": alarm.threshold,
        "ComparisonOperator": alarm.comparison_operator,
        "TreatMissingData": alarm.treat_missing_data,
        "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile,
        "ThresholdMetricId": alarm.threshold_metric_id,
        "Metrics": queries,
    }


def _on_change(backend: Any, before: dict[str, Any], after: Any, at: datetime) -> None:
    account, region = backend.account_id, backend.region_name
    try:
        alarm = Alarm.from_aws(before)
    except Unsupported:
        alarm = None
    try:
        reason_data = json.loads(after.state_reason_data or "{}")
    except ValueError:
        reason_data = {}
    change = Evaluation(
        state=after.state_value, reason=after.state_reason, reason_data=reason_data, changed=True
    )
    if alarm is None:  # an alarm shape the evaluator does not read: its history all the same
        item = {"AlarmName": after.name, "HistorySummary": "", "HistoryData": "{}"}
        item.update(Timestamp=at, AlarmType="MetricAlarm", HistoryItemType="StateUpdate")
        item["HistorySummary"] = f"Alarm updated from {before['StateValue']} to {change.state}"
        record(account, region, item)
        return
    record(account, region, state_update(alarm, change, at))
    from moto.sns.models import sns_backends

    for note in notifications(alarm, change, at, region=region, account=account):
        try:
            sns_backends[account][region].publish(
                note.message, arn=note.topic_arn, subject=note.subject
            )
        except Exception:  # noqa: BLE001 - a missing topic fails the action, as on AWS
            continue
        record(account, region, action_item(alarm, note, at))


def _patch(owner: Any, name: str, value: Any) -> None:
    _originals.append((owner, name, owner.__dict__.get(name)))
    setattr(owner, name, value)


def uninstall() -> None:
    """Undo `install` (tests share one moto with code that expects it unpatched)."""
    while _originals:
        owner, name, value = _originals.pop()
        if value is None:
            delattr(owner, name)
        else:
            setattr(owner, name, value)
    with _lock:
        _history.clear()


def install() -> None:
    """Patch moto's CloudWatch in this process (idempotent)."""
    if _originals:
        return
    from moto.cloudwatch import models, responses
    from moto.core.responses import ActionResult

    base_stat: Callable[..., Any] = models.Statistics.get_statistics_for_type

    def get_statistics_for_type(self: Any, stat: str) -> Any:
        match = _PERCENTILE.match(stat)
        if match:
            return percentile(self.metric_single_values_list, float(match.group(1)))
        return base_stat(self, stat)

    base_init: Callable[..., None] = models.Alarm.__init__

    def alarm_init(self: Any, *args: Any, **kwargs: Any) -> None:
        base_init(self, *args, **kwargs)
        self.state_value = INSUFFICIENT  # AWS's first state; moto says OK

    base_put: Callable[..., Any] = models.CloudWatchBackend.put_metric_alarm

    def put_metric_alarm(self: Any, *args: Any, **kwargs: Any) -> Any:
        name = kwargs.get("name", args[0] if args else None)
        existed = name in self.alarms
        alarm = base_put(self, *args, **kwargs)
        verb = "updated" if existed else "created"
        item = {"AlarmName": alarm.name, "AlarmType": "MetricAlarm"}
        item.update(Timestamp=datetime.now(UTC), HistoryItemType="ConfigurationUpdate")
        item["HistorySummary"] = f'Alarm "{alarm.name}" {verb}'
        item["HistoryData"] = json.dumps({"version": "1.0", "type": verb.capitalize()})
        record(self.account_id, self.region_name, item)
        return alarm

    base_set: Callable[..., None] = models.CloudWatchBackend.set_alarm_state

    def set_alarm_state(self: Any, alarm_name: str, *args: Any, **kwargs: Any) -> None:
        alarm = self.alarms.get(alarm_name)
        before = aws_shape(alarm) if alarm is not None else None
        base_set(self, alarm_name, *args, **kwargs)
        after = self.alarms[alarm_name]
        if before is not None and after.state_value != before["StateValue"]:
            _on_change(self, before, after, datetime.now(UTC))

    def describe_alarm_history(self: Any) -> ActionResult:
        scan = self._get_param("ScanBy") or "TimestampDescending"
        items = history(
            self.current_account,
            self.region,
            name=self._get_param("AlarmName"),
            kind=self._get_param("HistoryItemType"),
            start=self._get_param("StartDate"),
            end=self._get_param("EndDate"),
            oldest_first=scan == "TimestampAscending",
        )
        limit = self._get_param("MaxRecords")
        return ActionResult({"AlarmHistoryItems": items[: int(limit)] if limit else items})

    _patch(models.Statistics, "get_statistics_for_type", get_statistics_for_type)
    _patch(models.Alarm, "__init__", alarm_init)
    _patch(models.CloudWatchBackend, "put_metric_alarm", put_metric_alarm)
    _patch(models.CloudWatchBackend, "set_alarm_state", set_alarm_state)
    _patch(responses.CloudWatchResponse, "describe_alarm_history", describe_alarm_history)
