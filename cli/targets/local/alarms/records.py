"""What an alarm's state change leaves behind, in AWS's shapes: the history items that
DescribeAlarmHistory answers and the SNS notification each action topic receives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from perfenv.cli.targets.local.alarms.evaluate import Evaluation
from perfenv.cli.targets.local.alarms.model import Alarm

# The long names CloudWatch writes in notifications ("ALARM: "x" in EU (Ireland)").
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)",
    "eu-west-2": "EU (London)",
    "eu-west-3": "EU (Paris)",
    "eu-central-1": "EU (Frankfurt)",
    "eu-north-1": "EU (Stockholm)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
}


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"


@dataclass(frozen=True)
class Notification:
    topic_arn: str
    subject: str
    message: str  # the JSON text CloudWatch publishes


def state_update(alarm: Alarm, evaluation: Evaluation, at: datetime) -> dict[str, Any]:
    """The `StateUpdate` history item for `alarm` moving to `evaluation.state`."""
    data = {
        "version": "1.0",
        "oldState": {"stateValue": alarm.state, "stateReason": alarm.state_reason},
        "newState": {
            "stateValue": evaluation.state,
            "stateReason": evaluation.reason,
            "stateReasonData": evaluation.reason_data,
        },
    }
    return {
        "AlarmName": alarm.name,
        "AlarmType": "MetricAlarm",
        "Timestamp": at,
        "HistoryItemType": "StateUpdate",
        "HistorySummary": f"Alarm updated from {alarm.state} to {evaluation.state}",
        "HistoryData": json.dumps(data, separators=(",", ":")),
    }


def action_item(alarm: Alarm, notification: Notification, at: datetime) -> dict[str, Any]:
    """The `Action` history item for one notification published to an SNS topic."""
    data = {
        "actionState": "Succeeded",
        "stateUpdateTimestamp": int(at.timestamp() * 1000),
        "notificationResource": notification.topic_arn,
        "publishedMessage": notification.message,
    }
    return {
        "AlarmName": alarm.name,
        "AlarmType": "MetricAlarm",
        "Timestamp": at,
        "HistoryItemType": "Action",
        "HistorySummary": f"Successfully executed action {notification.topic_arn}",
        "HistoryData": json.dumps(data, separators=(",", ":")),
    }


def _trigger(alarm: Alarm) -> dict[str, Any]:
    trigger: dict[str, Any] = {
        "Period": alarm.period,
        "EvaluationPeriods": alarm.evaluation_periods,
        "DatapointsToAlarm": alarm.datapoints_to_alarm,
        "ComparisonOperator": alarm.comparison,
        "Threshold": alarm.threshold,
        "TreatMissingData": alarm.treat_missing,
        "EvaluateLowSampleCountPercentile": "",
    }
    metric = alarm.result.metric
    if alarm.is_math or metric is None:
        trigger["Metrics"] = [
            {"Id": q.id, "Expression": q.expression, "Label": q.label, "ReturnData": q.return_data}
            if q.metric is None
            else {"Id": q.id, "MetricStat": q.metric.as_aws(), "ReturnData": q.return_data}
            for q in alarm.queries
        ]
        return trigger
    trigger.update(
        MetricName=metric.name,
        Namespace=metric.namespace,
        StatisticType="ExtendedStatistic" if metric.is_percentile else "Statistic",
        Statistic=metric.stat if metric.is_percentile else metric.stat.upper(),
        Unit=metric.unit,
        Dimensions=[{"value": v, "name": k} for k, v in metric.dimensions],
    )
    return trigger


def notifications(
    alarm: Alarm, evaluation: Evaluation, at: datetime, *, region: str, account: str
) -> list[Notification]:
    """What CloudWatch publishes to each SNS topic among the actions of the new state."""
    if not alarm.actions_enabled or not evaluation.changed:
        return []
    topics = [a for a in alarm.actions.get(evaluation.state, ()) if a.startswith("arn:aws:sns:")]
    if not topics:
        return []
    where = REGION_NAMES.get(region, region)
    body = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description or None,
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": _iso(alarm.configuration_updated or at),
        "NewStateValue": evaluation.state,
        "NewStateReason": evaluation.reason,
        "StateChangeTime": _iso(at),
        "Region": where,
        "AlarmArn": alarm.arn,
        "OldStateValue": alarm.state,
        "OKActions": list(alarm.actions.get("OK", ())),
        "AlarmActions": list(alarm.actions.get("ALARM", ())),
        "InsufficientDataActions": list(alarm.actions.get("INSUFFICIENT_DATA", ())),
        "Trigger": _trigger(alarm),
    }
    message = json.dumps(body, separators=(",", ":"))
    subject = f'{evaluation.state}: "{alarm.name}" in {where}'[:100]  # SNS subjects stop at 100
    return [Notification(topic_arn=arn, subject=subject, message=message) for arn in topics]
