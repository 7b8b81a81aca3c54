"""The telemetry readers: the local journal and CloudWatch answers give the same `server` shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import ANY, Stubber

from perfenv.cli.targets.aws.telemetry import CloudWatchTelemetry
from perfenv.cli.targets.local.telemetry import JournalTelemetry
from perfenv.cli.verdict.histograms import new_histogram

ALB = (
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/perf-lb/50dc6c495c0c9188"
)
TG = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/perf-tg/73e2d6bc24d8a067"
T0 = 1_800_000_000  # a multiple of 60


def journal_line(t: int, requests: int, latency_us: int, cpu: dict[str, float]) -> dict[str, Any]:
    hist = new_histogram()
    for _ in range(requests):
        hist.record_value(latency_us)
    return {
        "t": t,
        "lb": {
            "arn:listener": {
                "load_balancer": "app/perf-lb/50dc6c495c0c9188",
                "target_group": "targetgroup/perf-tg/73e2d6bc24d8a067",
                "requests": requests,
                "target_codes": {"2XX": requests - 1, "5XX": 1} if requests else {},
                "elb_5xx": 0,
                "histogram": hist.encode().decode() if requests else "",
                "healthy": 2,
                "unhealthy": 0,
            }
        },
        "cpu": cpu,
        "groups": {"perf-asg": {"desired": 2, "in_service": 2, "min": 2, "max": 4}},
    }


def test_the_local_reader_reads_the_journal_for_a_window(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.jsonl"
    lines = [journal_line(T0 + i, 10 * i, 20_000, {"i-a": 5.0, "i-b": 7.5}) for i in range(6)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    reader = JournalTelemetry(path)
    reader.settle(T0 + 4)  # returns at once: the journal holds that second
    answer = reader.read(T0 + 0.4, T0 + 4.6)  # from the first whole second
    assert answer["source"] == "balancer" and answer["period_s"] == 1
    assert [p["at"] for p in answer["series"]] == [T0 + 1, T0 + 2, T0 + 3, T0 + 4]
    assert answer["totals"]["requests"] == 10 + 20 + 30 + 40
    assert answer["totals"]["target_5xx"] == 4 and answer["totals"]["elb_5xx"] == 0
    assert 19.9 < answer["totals"]["p95_ms"] < 20.1
    point = answer["series"][0]
    assert point["cpu"] == {"i-a": 5.0, "i-b": 7.5} and point["in_service"] == 2
    assert point["healthy"] == 2 and 19.9 < point["p50_ms"] < 20.1


def _result(id_: str, values: list[float], period: int = 60) -> dict[str, Any]:
    stamps = [datetime.fromtimestamp(T0 + i * period, UTC) for i in range(len(values))]
    return {
        "Id": id_,
        "Label": id_,
        "Timestamps": stamps,
        "Values": values,
        "StatusCode": "Complete",
    }


def test_the_aws_reader_asks_cloudwatch_and_gives_the_same_shape(tmp_path: Path) -> None:
    session = boto3.session.Session(
        aws_access_key_id="x", aws_secret_access_key="x", region_name="eu-west-1"
    )
    clients = {s: session.client(s) for s in ("cloudwatch", "elbv2", "ec2")}
    stubs = {s: Stubber(c) for s, c in clients.items()}
    stubs["elbv2"].add_response(
        "describe_target_groups",
        {"TargetGroups": [{"TargetGroupArn": TG}]},
        {"LoadBalancerArn": ALB},
    )
    stubs["ec2"].add_response(
        "describe_instances",
        {"Reservations": [{"Instances": [{"InstanceId": "i-b"}, {"InstanceId": "i-a"}]}]},
        {"Filters": [{"Name": "tag:aws:autoscaling:groupName", "Values": ["perf-asg"]}]},
    )
    # Query ids in the reader's order: requests, target 5xx, elb 5xx, p50, p95, p99, in
    # service, healthy, then one CPU query per instance (sorted: i-a, i-b).
    series = [
        _result("q0", [600.0, 1200.0]),
        _result("q1", [1.0, 0.0]),
        _result("q3", [0.018, 0.020]),
        _result("q4", [0.025, 0.031]),
        _result("q5", [0.040, 0.052]),
        _result("q6", [2.0, 2.0]),
        _result("q7", [2.0, 1.0]),
        _result("q8", [10.0, 20.0]),
        _result("q9", [12.5]),
    ]
    stubs["cloudwatch"].add_response(
        "get_metric_data", {"MetricDataResults": series, "NextToken": "more"}, ANY_PARAMS
    )
    stubs["cloudwatch"].add_response(
        "get_metric_data",
        {"MetricDataResults": [_result("q2", [0.0, 3.0])]},
        {**ANY_PARAMS, "NextToken": "more"},  # the second page
    )
    whole = [_result("q0", [0.019], 120), _result("q1", [0.029], 120), _result("q2", [0.05], 120)]
    stubs["cloudwatch"].add_response("get_metric_data", {"MetricDataResults": whole}, ANY_PARAMS)
    for stub in stubs.values():
        stub.activate()
    reader = CloudWatchTelemetry(
        lambda service, region: clients[service],
        "eu-west-1",
        ALB,
        "perf-asg",
        clock=lambda: T0 + 500.0,
        sleep=lambda s: None,
    )
    answer = reader.read(T0 + 5, T0 + 100)
    for stub in stubs.values():
        stub.assert_no_pending_responses()

    assert answer["source"] == "cloudwatch" and answer["period_s"] == 60
    assert answer["totals"] == {
        "requests": 1800,
        "target_5xx": 1,
        "elb_5xx": 3,
        "p50_ms": 19.0,
        "p95_ms": 29.0,
        "p99_ms": 50.0,
    }
    first, second = answer["series"]
    assert first["at"] == T0 and second["at"] == T0 + 60
    assert first["p95_ms"] == 25.0 and second["p99_ms"] == 52.0
    assert first["cpu"] == {"i-a": 10.0, "i-b": 12.5} and second["cpu"] == {"i-a": 20.0}
    assert (first["in_service"], second["healthy"]) == (2, 1)

    # The same shape as the local reader's.
    path = tmp_path / "telemetry.jsonl"
    path.write_text(json.dumps(journal_line(T0, 5, 1000, {})) + "\n")
    local = JournalTelemetry(path).read(T0, T0)
    assert set(local) == set(answer) and set(local["totals"]) == set(answer["totals"])
    assert set(local["series"][0]) == set(first)


ANY_PARAMS = {
    "MetricDataQueries": ANY,
    "StartTime": ANY,
    "EndTime": ANY,
    "ScanBy": "TimestampAscending",
}
