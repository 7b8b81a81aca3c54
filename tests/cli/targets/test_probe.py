"""The probe against moto (in-process) with the emulator's answers installed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from perfenv.cli.targets.local.alarms import emulated as alarm_answers
from perfenv.cli.targets.local.scaling import emulated as scaling_answers
from perfenv.cli.targets.local.scaling.activities import ActivityLog, launched
from perfenv.cli.targets.probe import Probe, stack_alarms, stack_groups

REGION = "eu-west-1"


@pytest.fixture
def clients(tmp_path: Path) -> Iterator[Any]:
    alarm_answers.install()
    scaling_answers.install(tmp_path)
    try:
        with mock_aws():
            yield lambda service: boto3.client(service, region_name=REGION)
    finally:
        scaling_answers.uninstall()
        alarm_answers.uninstall()


def _group(clients: Any) -> None:
    ec2, elbv2 = clients("ec2"), clients("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.1.0/24", AvailabilityZone="eu-west-1a")
    image = ec2.register_image(Name="app", RootDeviceName="/dev/xvda")["ImageId"]
    ec2.create_launch_template(
        LaunchTemplateName="app", LaunchTemplateData={"ImageId": image, "InstanceType": "t3.micro"}
    )
    tg = elbv2.create_target_group(Name="tg", Protocol="HTTP", Port=8080, VpcId=vpc)
    clients("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName="asg",
        LaunchTemplate={"LaunchTemplateName": "app"},
        MinSize=2,
        MaxSize=4,
        DesiredCapacity=2,
        VPCZoneIdentifier=subnet["Subnet"]["SubnetId"],
        TargetGroupARNs=[tg["TargetGroups"][0]["TargetGroupArn"]],
        Tags=[{"Key": "perfenv:stack", "Value": "perf-x", "PropagateAtLaunch": True}],
    )


def test_failover_events_loss_detection_and_replacement(clients: Any) -> None:
    _group(clients)
    autoscaling = clients("autoscaling")

    [arn] = clients("elbv2").describe_target_groups()["TargetGroups"]

    def lose(instance: str) -> None:  # the instance gone, its target out, a replacement in
        clients("elbv2").deregister_targets(
            TargetGroupArn=arn["TargetGroupArn"], Targets=[{"Id": instance}]
        )
        autoscaling.terminate_instance_in_auto_scaling_group(
            InstanceId=instance, ShouldDecrementDesiredCapacity=False
        )

    assert stack_groups(clients, "perf-x") == ["asg"]
    probe = Probe(clients, ["asg"], lose, lambda _name: True, interval_s=0.1)
    probe.begin(failover=True, fail_at=0.25)
    time.sleep(1.0)
    events = probe.end()
    assert probe.problems == []
    assert events.lost_instance is not None and events.lost_at is not None
    assert events.lost_at >= 0.25
    assert events.stopped_sending_at is not None and events.stopped_sending_at >= events.lost_at
    assert events.replaced_at is not None
    assert events.in_service[0][1] == 2


def test_scale_outs_and_alarm_transitions_of_the_window(clients: Any, tmp_path: Path) -> None:
    _group(clients)
    cloudwatch = clients("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="perf-5xx-rate",
        Namespace="AWS/ApplicationELB",
        MetricName="RequestCount",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
        Tags=[{"Key": "perfenv:stack", "Value": "perf-x"}],
    )
    probe = Probe(clients, ["asg"], lambda _i: None, stack_alarms(clients, "perf-x", ["asg"]))
    probe.begin()
    (tmp_path / "perf-x").mkdir()
    log = ActivityLog(tmp_path / "perf-x" / scaling_answers.FILE)
    reason = (
        "At x a monitor alarm A in state ALARM triggered policy p"
        " changing the desired capacity from 2 to 3."
    )
    log.add(launched("asg", "arn", "i-3", datetime.now(UTC), reason=reason, previous=2, desired=3))
    cloudwatch.set_alarm_state(AlarmName="perf-5xx-rate", StateValue="OK", StateReason="r")
    cloudwatch.set_alarm_state(AlarmName="perf-5xx-rate", StateValue="ALARM", StateReason="r")
    events = probe.end()
    assert len(events.scale_outs) == 1 and events.scale_outs[0] >= 0
    assert [(a["alarm"], a["from"], a["to"]) for a in events.alarms] == [
        ("perf-5xx-rate", "INSUFFICIENT_DATA", "OK"),
        ("perf-5xx-rate", "OK", "ALARM"),
    ]
