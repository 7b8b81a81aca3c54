"""perfenv's emulator answers for alarms (moto in-process, patched and unpatched per test)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from perfenv.cli.targets.local.alarms import emulated

REGION = "eu-west-1"


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    emulated.install()
    try:
        with mock_aws():
            yield {
                "cloudwatch": boto3.client("cloudwatch", region_name=REGION),
                "sns": boto3.client("sns", region_name=REGION),
            }
    finally:
        emulated.uninstall()


def _alarm(cloudwatch: Any, topic: str) -> None:
    cloudwatch.put_metric_alarm(
        AlarmName="cpu",
        Namespace="AWS/EC2",
        MetricName="CPUUtilization",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=3,
        Threshold=80.0,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[topic],
        OKActions=[topic],
    )


def test_alarm_starts_insufficient_and_a_change_is_history_and_a_notification(
    aws: dict[str, Any],
) -> None:
    cloudwatch, sns = aws["cloudwatch"], aws["sns"]
    topic = sns.create_topic(Name="alarms")["TopicArn"]
    _alarm(cloudwatch, topic)
    [alarm] = cloudwatch.describe_alarms(AlarmNames=["cpu"])["MetricAlarms"]
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    data = json.dumps({"version": "1.0", "recentDatapoints": [90.0]})
    cloudwatch.set_alarm_state(
        AlarmName="cpu", StateValue="OK", StateReason="fine", StateReasonData=data
    )
    cloudwatch.set_alarm_state(
        AlarmName="cpu", StateValue="ALARM", StateReason="hot", StateReasonData=data
    )
    cloudwatch.set_alarm_state(
        AlarmName="cpu", StateValue="ALARM", StateReason="hot", StateReasonData=data
    )
    items = cloudwatch.describe_alarm_history(AlarmName="cpu")["AlarmHistoryItems"]
    kinds = [(i["HistoryItemType"], i["HistorySummary"]) for i in items]
    assert ("StateUpdate", "Alarm updated from INSUFFICIENT_DATA to OK") in kinds
    assert ("StateUpdate", "Alarm updated from OK to ALARM") in kinds
    assert ("ConfigurationUpdate", 'Alarm "cpu" created') in kinds
    assert sum(1 for k, _s in kinds if k == "Action") == 2  # OK and ALARM both notify the topic
    assert len([k for k, _s in kinds if k == "StateUpdate"]) == 2  # a repeat is not a change
    updates = cloudwatch.describe_alarm_history(AlarmName="cpu", HistoryItemType="StateUpdate")
    newest = json.loads(updates["AlarmHistoryItems"][0]["HistoryData"])
    assert newest["oldState"]["stateValue"] == "OK" and newest["newState"]["stateReason"] == "hot"
    from moto.sns.models import sns_backends

    sent = sns_backends["123456789012"][REGION].topics[topic].sent_notifications
    messages = [json.loads(m[1]) for m in sent]
    assert [m["NewStateValue"] for m in messages] == ["OK", "ALARM"]
    assert sent[-1][2] == 'ALARM: "cpu" in EU (Ireland)'


def test_history_filters_by_time(aws: dict[str, Any]) -> None:
    cloudwatch = aws["cloudwatch"]
    topic = aws["sns"].create_topic(Name="t")["TopicArn"]
    _alarm(cloudwatch, topic)
    later = datetime.now(UTC) + timedelta(hours=1)
    assert cloudwatch.describe_alarm_history(StartDate=later)["AlarmHistoryItems"] == []
    assert len(cloudwatch.describe_alarm_history(MaxRecords=1)["AlarmHistoryItems"]) == 1


def test_percentiles_from_the_values_put(aws: dict[str, Any]) -> None:
    cloudwatch = aws["cloudwatch"]
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
    cloudwatch.put_metric_data(
        Namespace="AWS/ApplicationELB",
        MetricData=[
            {
                "MetricName": "TargetResponseTime",
                "Dimensions": [{"Name": "LoadBalancer", "Value": "app/alb/1"}],
                "Timestamp": start + timedelta(seconds=5),
                "Values": [0.01, 0.02, 0.5],
                "Counts": [90, 5, 5],
            }
        ],
    )
    query = {
        "Id": "p",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/ApplicationELB",
                "MetricName": "TargetResponseTime",
                "Dimensions": [{"Name": "LoadBalancer", "Value": "app/alb/1"}],
            },
            "Period": 60,
            "Stat": "p95",
        },
    }
    got = cloudwatch.get_metric_data(
        MetricDataQueries=[
            query,
            {**query, "Id": "q", "MetricStat": {**query["MetricStat"], "Stat": "p96"}},
        ],
        StartTime=start,
        EndTime=start + timedelta(minutes=1),
    )["MetricDataResults"]
    assert got[0]["Values"] == [0.02] and got[1]["Values"] == [0.5]


def test_uninstall_leaves_moto_as_it_was() -> None:
    emulated.install()
    emulated.uninstall()
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        _alarm(cloudwatch, "arn:aws:sns:eu-west-1:123456789012:none")
        assert cloudwatch.describe_alarms()["MetricAlarms"][0]["StateValue"] == "OK"  # moto's own


def test_percentile_is_nearest_rank() -> None:
    assert emulated.percentile([], 95) is None
    assert emulated.percentile([float(v) for v in range(1, 101)], 95) == 95.0
    assert emulated.percentile([3.0, 1.0, 2.0], 50) == 2.0


def test_a_math_alarm_as_the_stack_makes_it_notifies_its_topic(aws: dict[str, Any]) -> None:
    cloudwatch, sns = aws["cloudwatch"], aws["sns"]
    topic = sns.create_topic(Name="alarms")["TopicArn"]
    metric = {
        "Namespace": "AWS/ApplicationELB",
        "MetricName": "RequestCount",
        "Dimensions": [{"Name": "LoadBalancer", "Value": "app/a/1"}],
    }
    cloudwatch.put_metric_alarm(
        AlarmName="rate",
        EvaluationPeriods=3,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[topic],
        Metrics=[  # ReturnData omitted on the metric, as the provider leaves it
            {"Id": "requests", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}},
            {"Id": "r", "Expression": "requests * 2", "ReturnData": True},
        ],
    )
    cloudwatch.set_alarm_state(AlarmName="rate", StateValue="ALARM", StateReason="r")
    kinds = [i["HistoryItemType"] for i in cloudwatch.describe_alarm_history()["AlarmHistoryItems"]]
    assert "Action" in kinds
