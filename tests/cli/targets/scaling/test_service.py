"""The autoscaler and the alarm evaluator together, against moto (in-process)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from perfenv.cli.targets.local.alarms import emulated
from perfenv.cli.targets.local.alarms.service import AlarmEvaluator, ApiSource
from perfenv.cli.targets.local.scaling.activities import ActivityLog
from perfenv.cli.targets.local.scaling.service import Autoscaler

REGION = "eu-west-1"
PERIOD = 10


@pytest.fixture
def aws() -> Iterator[Any]:
    emulated.install()
    try:
        with mock_aws():
            yield lambda service: boto3.client(service, region_name=REGION)
    finally:
        emulated.uninstall()


def _stack(clients: Any, *, schedule: str | None = None) -> tuple[str, str]:
    ec2, elbv2, autoscaling = clients("ec2"), clients("elbv2"), clients("autoscaling")
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.1.0/24", AvailabilityZone="eu-west-1a")
    image = ec2.register_image(Name="app", RootDeviceName="/dev/xvda")["ImageId"]
    ec2.create_launch_template(
        LaunchTemplateName="app", LaunchTemplateData={"ImageId": image, "InstanceType": "t3.micro"}
    )
    tg = elbv2.create_target_group(Name="tg", Protocol="HTTP", Port=8080, VpcId=vpc)
    tg_arn = tg["TargetGroups"][0]["TargetGroupArn"]
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="asg",
        LaunchTemplate={"LaunchTemplateName": "app"},
        MinSize=2,
        MaxSize=4,
        DesiredCapacity=2,
        VPCZoneIdentifier=subnet["Subnet"]["SubnetId"],
        TargetGroupARNs=[tg_arn],
    )
    label = "app/alb/50dc6c495c0c9188/" + tg_arn.split(":")[-1]
    autoscaling.put_scaling_policy(
        AutoScalingGroupName="asg",
        PolicyName="requests",
        PolicyType="TargetTrackingScaling",
        TargetTrackingConfiguration={
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ALBRequestCountPerTarget",
                "ResourceLabel": label,
            },
            "TargetValue": 1000.0,
        },
    )
    if schedule:
        autoscaling.put_scheduled_update_group_action(
            AutoScalingGroupName="asg",
            ScheduledActionName="morning",
            Recurrence=schedule,
            MinSize=3,
            MaxSize=4,
        )
    return tg_arn, "targetgroup/" + label.split("/targetgroup/")[1]


def _machinery(clients: Any, tmp_path: Path) -> tuple[AlarmEvaluator, Autoscaler, ActivityLog]:
    cloudwatch = clients("cloudwatch")
    evaluator = AlarmEvaluator(cloudwatch, ApiSource(cloudwatch), time_scale=6)
    log = ActivityLog(tmp_path / "perf.activities.jsonl")
    autoscaler = Autoscaler(clients, ["asg"], log, evaluator, time_scale=6)
    autoscaler.setup()
    return evaluator, autoscaler, log


def _per_target(clients: Any, dimension: str, start: datetime, value: float) -> None:
    clients("cloudwatch").put_metric_data(
        Namespace="AWS/ApplicationELB",
        MetricData=[
            {
                "MetricName": "RequestCountPerTarget",
                "Dimensions": [{"Name": "TargetGroup", "Value": dimension}],
                "Timestamp": start,
                "Value": value,
            }
        ],
    )


def test_request_count_above_target_scales_out_with_an_activity_and_its_cause(
    aws: Any, tmp_path: Path
) -> None:
    _tg, dimension = _stack(aws)
    evaluator, autoscaler, log = _machinery(aws, tmp_path)
    [high] = [n for n in evaluator.names if "AlarmHigh" in n]
    assert any("AlarmLow" in n for n in evaluator.names)
    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    desired = [2]
    for i in range(6):  # 2800 requests per (AWS) minute over the targets in service
        start = base + timedelta(seconds=PERIOD * i)
        _per_target(aws, dimension, start, 2800.0 / desired[-1])
        evaluator.period(int(start.timestamp()), PERIOD)
        autoscaler.period(int(start.timestamp()), PERIOD)
        group = aws("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"][0]
        desired.append(group["DesiredCapacity"])
    assert desired[1:3] == [2, 2] and desired[3:] == [3, 3, 3, 3]  # 3 of 3 breaching, then once
    found = aws("autoscaling").describe_scaling_activities(AutoScalingGroupName="asg")
    assert found["Activities"] == []  # moto's own answer: the emulator serves the log
    [launch] = log.describe("asg")
    assert launch["Description"].startswith("Launching a new EC2 instance: i-")
    assert f"a monitor alarm {high} in state ALARM triggered policy requests" in launch["Cause"]
    assert "changing the desired capacity from 2 to 3." in launch["Cause"]
    assert launch["StatusCode"] == "Successful"  # healthy in the target group (moto: at once)


def test_no_data_no_scaling(aws: Any, tmp_path: Path) -> None:
    _stack(aws)
    evaluator, autoscaler, log = _machinery(aws, tmp_path)
    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    for i in range(5):
        start = base + timedelta(seconds=PERIOD * i)
        evaluator.period(int(start.timestamp()), PERIOD)
        autoscaler.period(int(start.timestamp()), PERIOD)
    group = aws("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"][0]
    assert group["DesiredCapacity"] == 2 and log.describe() == []


def test_a_scheduled_action_sets_the_bounds_when_due(aws: Any, tmp_path: Path) -> None:
    _stack(aws, schedule="* * * * *")
    _evaluator, autoscaler, log = _machinery(aws, tmp_path)
    autoscaler.tick(datetime.now(UTC))
    group = aws("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"][0]
    assert (group["MinSize"], group["DesiredCapacity"]) == (3, 3)
    [launch] = log.describe("asg")
    assert (
        "a scheduled action update of AutoScalingGroup constraints to min: 3, max: 4"
        in launch["Cause"]
    )


def test_attach_makes_both_hooks_for_a_controller(aws: Any, tmp_path: Path) -> None:
    from perfenv.cli.targets.local.scaling.hooks import attach

    _tg, dimension = _stack(aws)
    evaluator, autoscaler, hooks = attach(
        aws,
        groups=["asg"],
        alarms=["perf-5xx-rate"],
        time_scale=6,
        run_dir=tmp_path,
        journal=tmp_path / "telemetry.jsonl",
    )
    [hook] = hooks
    assert [h.__qualname__ for h in hook.hooks] == ["AlarmEvaluator.period", "Autoscaler.period"]
    assert "perf-5xx-rate" in evaluator.names and len(evaluator.names) == 3  # + the two it owns
    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    desired = [2]
    for i in range(4):
        start = base + timedelta(seconds=PERIOD * i)
        _per_target(aws, dimension, start, 2800.0 / desired[-1])
        hook(int(start.timestamp()), PERIOD)
        assert hook.thread is not None
        hook.thread.join(timeout=30)
        group = aws("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"][0]
        desired.append(group["DesiredCapacity"])
    assert desired[-1] == 3
    assert (tmp_path / "activities.jsonl").exists()


def test_a_failing_hook_is_logged_not_raised(capsys: pytest.CaptureFixture[str]) -> None:
    from perfenv.cli.targets.local.scaling.hooks import guarded

    def broken(start: int, period_s: int) -> None:
        raise RuntimeError("the emulator\nis busy")

    guarded(broken)(0, 10)
    assert "broken failed: the emulator is busy" in capsys.readouterr().out
