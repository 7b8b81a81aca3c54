"""The alarm evaluator against moto (in-process) with the emulator's answers installed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from hdrh.histogram import HdrHistogram
from moto import mock_aws

from perfenv.cli.targets.local.alarms import emulated
from perfenv.cli.targets.local.alarms.model import Alarm, MetricStat
from perfenv.cli.targets.local.alarms.service import (
    AlarmEvaluator,
    ApiSource,
    JournalPercentiles,
    Routed,
    scaled,
)

REGION = "eu-west-1"
LB = "app/perf-alb/50dc6c495c0c9188"
RATE = "IF(requests > 0, 100 * (FILL(errors, 0) + FILL(elb_errors, 0)) / requests, 0)"
PERIOD = 10  # the local period for AWS's 60 s at time scale 6


@pytest.fixture
def cloudwatch() -> Iterator[Any]:
    emulated.install()
    try:
        with mock_aws():
            yield boto3.client("cloudwatch", region_name=REGION)
    finally:
        emulated.uninstall()


def _query(id_: str, name: str) -> dict[str, Any]:
    metric = {"Namespace": "AWS/ApplicationELB", "MetricName": name}
    metric["Dimensions"] = [{"Name": "LoadBalancer", "Value": LB}]  # type: ignore[assignment]
    return {
        "Id": id_,
        "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"},
        "ReturnData": False,
    }


def _rate_alarm(cloudwatch: Any, topic: str) -> None:
    cloudwatch.put_metric_alarm(
        AlarmName="perf-5xx-rate",
        EvaluationPeriods=3,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[topic],
        OKActions=[topic],
        Metrics=[
            _query("errors", "HTTPCode_Target_5XX_Count"),
            _query("elb_errors", "HTTPCode_ELB_5XX_Count"),
            _query("requests", "RequestCount"),
            {"Id": "rate", "Expression": RATE, "Label": "5xx rate (%)", "ReturnData": True},
        ],
    )


def _publish(cloudwatch: Any, start: datetime, requests: int, errors: int) -> None:
    dims = [{"Name": "LoadBalancer", "Value": LB}]
    data = [
        {"MetricName": "RequestCount", "Dimensions": dims, "Timestamp": start, "Value": requests}
    ]
    if errors:
        data.append(
            {
                "MetricName": "HTTPCode_Target_5XX_Count",
                "Dimensions": dims,
                "Timestamp": start,
                "Value": errors,
            }
        )
    cloudwatch.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data)


def test_an_app_answering_500_trips_the_5xx_alarm_and_it_is_in_the_history(cloudwatch: Any) -> None:
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="alarms")["TopicArn"]
    _rate_alarm(cloudwatch, topic)
    evaluator = AlarmEvaluator(cloudwatch, ApiSource(cloudwatch), time_scale=6)
    evaluator.watch(["perf-5xx-rate"])
    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    states = []
    for i in range(8):  # healthy for three periods, then every request fails
        start = base + timedelta(seconds=PERIOD * i)
        _publish(cloudwatch, start, 500, 0 if i < 3 else 500)
        evaluator.period(int(start.timestamp()), PERIOD)
        states.append(cloudwatch.describe_alarms()["MetricAlarms"][0]["StateValue"])
    assert states[:3] == ["OK"] * 3  # first evaluation: from INSUFFICIENT_DATA to OK
    assert states[5:] == ["ALARM"] * 3  # three breaching periods of three
    assert [(c[2], c[3]) for c in evaluator.changes] == [
        ("INSUFFICIENT_DATA", "OK"),
        ("OK", "ALARM"),
    ]
    items = cloudwatch.describe_alarm_history(
        AlarmName="perf-5xx-rate", HistoryItemType="StateUpdate"
    )
    assert items["AlarmHistoryItems"][0]["HistorySummary"] == "Alarm updated from OK to ALARM"
    reason = cloudwatch.describe_alarms()["MetricAlarms"][0]["StateReason"]
    assert reason.startswith("Threshold Crossed: 3 datapoints [100.0 (")


def test_a_quiet_stack_stays_ok_with_missing_data_not_breaching(cloudwatch: Any) -> None:
    _rate_alarm(cloudwatch, "arn:aws:sns:eu-west-1:123456789012:none")
    evaluator = AlarmEvaluator(cloudwatch, ApiSource(cloudwatch), time_scale=6)
    evaluator.watch(["perf-5xx-rate"])
    evaluator.evaluate_all(datetime.now(UTC))
    assert cloudwatch.describe_alarms()["MetricAlarms"][0]["StateValue"] == "OK"


def test_an_alarm_the_evaluator_cannot_read_is_skipped_with_its_reason(cloudwatch: Any) -> None:
    cloudwatch.put_metric_alarm(
        AlarmName="band",
        EvaluationPeriods=1,
        ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold",
        ThresholdMetricId="ad1",
        Metrics=[
            _query("m1", "RequestCount"),
            {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)", "ReturnData": True},
        ],
    )
    evaluator = AlarmEvaluator(cloudwatch, ApiSource(cloudwatch), time_scale=6)
    evaluator.watch(["band"])
    assert evaluator.evaluate_all(datetime.now(UTC)) == []
    assert "band" in evaluator.skipped


def test_scaled_divides_every_period() -> None:
    alarm = Alarm.from_aws(
        {
            "AlarmName": "x",
            "Namespace": "AWS/EC2",
            "MetricName": "CPUUtilization",
            "Statistic": "Average",
            "Period": 60,
            "EvaluationPeriods": 3,
            "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanThreshold",
        }
    )
    local = scaled(alarm, 6)
    assert local.period == 10 and local.result.metric is not None
    assert local.result.metric.period == 10 and local.evaluation_periods == 3


def test_percentiles_from_the_balancers_histograms(tmp_path: Path) -> None:
    journal = tmp_path / "telemetry.jsonl"
    start = 1_800_000_000
    lines = []
    for t in range(start, start + 20):
        hist = HdrHistogram(1, 60_000_000, 3)
        for ms in range(1, 101):  # 1..100 ms, then 300 ms in the second period
            hist.record_value((ms if t < start + 10 else 300) * 1000)
        lb = {
            "load_balancer": LB,
            "target_group": "targetgroup/tg/1",
            "histogram": hist.encode().decode(),
        }
        lines.append(json.dumps({"t": t, "lb": {"arn": lb}}))
    journal.write_text("\n".join(lines) + "\n")
    source = Routed(basic=None, percentiles=JournalPercentiles(journal))
    p95 = MetricStat("AWS/ApplicationELB", "TargetResponseTime", (("LoadBalancer", LB),), "p95", 10)
    at = datetime.fromtimestamp(start, UTC)
    got = source.series(p95, at, at + timedelta(seconds=20))
    assert got[at] == pytest.approx(0.095, rel=0.01)
    assert got[at + timedelta(seconds=10)] == pytest.approx(0.3, rel=0.01)
    counts = source.series(p95.with_stat("SampleCount"), at, at + timedelta(seconds=20))
    assert counts[at] == 1000.0
    other = MetricStat(
        "AWS/ApplicationELB", "TargetResponseTime", (("LoadBalancer", "app/x/1"),), "p95", 10
    )
    assert source.series(other, at, at + timedelta(seconds=20)) == {}
