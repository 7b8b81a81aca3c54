"""Alarms read from DescribeAlarms, and the history items and notifications they leave."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from perfenv.cli.targets.local.alarms.evaluate import Evaluation
from perfenv.cli.targets.local.alarms.model import ALARM, OK, Alarm, Unsupported
from perfenv.cli.targets.local.alarms.records import action_item, notifications, state_update

AT = datetime(2026, 3, 2, 12, 0, 5, tzinfo=UTC)
TOPIC = "arn:aws:sns:eu-west-1:123456789012:alarms-1a2b"
RATE = "IF(requests > 0, 100 * (FILL(errors, 0) + FILL(elb_errors, 0)) / requests, 0)"


def _metric(id_: str, name: str) -> dict[str, object]:
    return {
        "Id": id_,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/ApplicationELB",
                "MetricName": name,
                "Dimensions": [{"Name": "LoadBalancer", "Value": "app/alb/1"}],
            },
            "Period": 60,
            "Stat": "Sum",
        },
        "ReturnData": False,
    }


MATH = {
    "AlarmName": "perf-5xx-rate-1a2b",
    "AlarmArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:perf-5xx-rate-1a2b",
    "AlarmDescription": "5xx responses above 1.0% of requests",
    "ActionsEnabled": True,
    "OKActions": [TOPIC],
    "AlarmActions": [TOPIC],
    "InsufficientDataActions": [],
    "StateValue": "OK",
    "StateReason": "Unchecked: Initial alarm creation",
    "EvaluationPeriods": 3,
    "Threshold": 1.0,
    "ComparisonOperator": "GreaterThanThreshold",
    "TreatMissingData": "notBreaching",
    "Metrics": [
        _metric("errors", "HTTPCode_Target_5XX_Count"),
        _metric("elb_errors", "HTTPCode_ELB_5XX_Count"),
        _metric("requests", "RequestCount"),
        {"Id": "rate", "Expression": RATE, "Label": "5xx rate (%)", "ReturnData": True},
    ],
}
P95 = {
    "AlarmName": "perf-p95-latency-1a2b",
    "AlarmArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:perf-p95-latency-1a2b",
    "Namespace": "AWS/ApplicationELB",
    "MetricName": "TargetResponseTime",
    "Dimensions": [{"Name": "LoadBalancer", "Value": "app/alb/1"}],
    "ExtendedStatistic": "p95",
    "Period": 60,
    "EvaluationPeriods": 3,
    "Threshold": 0.25,
    "ComparisonOperator": "GreaterThanThreshold",
    "AlarmActions": [TOPIC],
}


def test_a_math_alarm_from_describe_alarms() -> None:
    alarm = Alarm.from_aws(MATH)
    assert alarm.is_math and alarm.result.id == "rate" and alarm.period == 60
    assert alarm.datapoints_to_alarm == 3 and alarm.treat_missing == "notBreaching"
    assert [q.id for q in alarm.queries if q.metric] == ["errors", "elb_errors", "requests"]


def test_a_percentile_alarm_from_describe_alarms() -> None:
    alarm = Alarm.from_aws(P95)
    metric = alarm.result.metric
    assert metric is not None and metric.is_percentile and metric.percentile == 95.0
    assert alarm.treat_missing == "missing" and alarm.state == "INSUFFICIENT_DATA"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold"}, "comparison"),
        ({"ThresholdMetricId": "ad1"}, "anomaly detection"),
        ({"Metrics": [_metric("a", "RequestCount")]}, "exactly one query"),
    ],
)
def test_what_the_local_evaluator_refuses_to_guess(change: dict[str, object], words: str) -> None:
    with pytest.raises(Unsupported, match=words):
        Alarm.from_aws({**MATH, **change})


def test_history_item_and_notification_shapes() -> None:
    alarm = Alarm.from_aws(MATH)
    change = Evaluation(state=ALARM, reason="Threshold Crossed: ...", changed=True)
    item = state_update(alarm, change, AT)
    assert item["HistoryItemType"] == "StateUpdate"
    assert item["HistorySummary"] == "Alarm updated from OK to ALARM"
    data = json.loads(item["HistoryData"])
    assert data["oldState"]["stateValue"] == OK and data["newState"]["stateValue"] == ALARM
    [note] = notifications(alarm, change, AT, region="eu-west-1", account="123456789012")
    assert note.topic_arn == TOPIC
    assert note.subject == 'ALARM: "perf-5xx-rate-1a2b" in EU (Ireland)'
    body = json.loads(note.message)
    assert body["NewStateValue"] == ALARM and body["OldStateValue"] == OK
    assert body["Trigger"]["Metrics"][-1]["Expression"] == RATE
    action = action_item(alarm, note, AT)
    assert action["HistoryItemType"] == "Action"
    assert json.loads(action["HistoryData"])["notificationResource"] == TOPIC


def test_no_notification_without_a_change_or_with_actions_disabled() -> None:
    alarm = Alarm.from_aws(MATH)
    same = Evaluation(state=OK, reason="r", changed=False)
    assert notifications(alarm, same, AT, region="eu-west-1", account="1") == []
    quiet = Alarm.from_aws({**MATH, "ActionsEnabled": False})
    change = Evaluation(state=ALARM, reason="r", changed=True)
    assert notifications(quiet, change, AT, region="eu-west-1", account="1") == []


def test_a_percentile_trigger_names_its_extended_statistic() -> None:
    alarm = Alarm.from_aws(P95)
    change = Evaluation(state=ALARM, reason="r", changed=True)
    [note] = notifications(alarm, change, AT, region="us-east-1", account="1")
    trigger = json.loads(note.message)["Trigger"]
    assert trigger["StatisticType"] == "ExtendedStatistic" and trigger["Statistic"] == "p95"
    assert note.subject.endswith("in US East (N. Virginia)")


def test_an_omitted_return_data_is_false_when_another_query_returns_data() -> None:
    metrics = [{k: v for k, v in q.items() if k != "ReturnData"} for q in MATH["Metrics"]]  # type: ignore[attr-defined]
    metrics[-1]["ReturnData"] = True
    alarm = Alarm.from_aws({**MATH, "Metrics": metrics})
    assert alarm.result.id == "rate" and [q.return_data for q in alarm.queries].count(True) == 1
