"""The aws target's probe against moto: the stack's groups and alarms by tag, and a failover
that loses an instance with ec2 terminate-instances."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from perfenv.cli.targets.aws import AwsTarget
from tests.fakes import kube
from tests.fakes.automation import FakeAutomation

STACK = "perf-1-4-2-abc123"
REGION = "eu-west-1"  # the perf template's


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("PERFENV_AWS_ACCOUNTS", "123456789012")
    kube.allow(monkeypatch, tmp_path)  # the perf template's cluster, allowed; a fake kubectl
    with mock_aws():
        yield


def _moto(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region)  # type: ignore[call-overload]


def _fleet() -> None:
    ec2 = _moto("ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.1.0/24")["Subnet"]["SubnetId"]
    image = ec2.register_image(Name="app", RootDeviceName="/dev/xvda")["ImageId"]
    ec2.create_launch_template(
        LaunchTemplateName="app", LaunchTemplateData={"ImageId": image, "InstanceType": "t3.micro"}
    )
    for name, stack in (("perf-asg", STACK), ("other-asg", "perf-other-000000")):
        _moto("autoscaling", REGION).create_auto_scaling_group(
            AutoScalingGroupName=name,
            LaunchTemplate={"LaunchTemplateName": "app"},
            MinSize=2,
            MaxSize=4,
            DesiredCapacity=2,
            VPCZoneIdentifier=subnet,
            Tags=[{"Key": "perfenv:stack", "Value": stack, "PropagateAtLaunch": True}],
        )


def test_the_probe_watches_only_the_stacks_groups_and_loses_with_terminate_instances(
    aws: None,
) -> None:
    _fleet()
    target = AwsTarget(automation=FakeAutomation(), client=_moto, sleep=lambda _s: None)
    probe = target.probe(STACK)
    assert probe.groups == ["perf-asg"]
    probe.interval_s = 0.05
    probe.begin(failover=True, fail_at=0.0)
    time.sleep(0.4)
    events = probe.end()
    assert events.lost_instance is not None
    [reservation] = _moto("ec2", REGION).describe_instances(InstanceIds=[events.lost_instance])[
        "Reservations"
    ]
    assert reservation["Instances"][0]["State"]["Name"] == "terminated"
    assert events.in_service[0][1] == 2  # InService instances: these groups have no target group


def test_the_probe_needs_an_allowed_account(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from perfenv.cli.errors import BadInput

    monkeypatch.setenv("PERFENV_AWS_ACCOUNTS", "210987654321")
    target = AwsTarget(automation=FakeAutomation(), client=_moto, sleep=lambda _s: None)
    with pytest.raises(BadInput, match="not in PERFENV_AWS_ACCOUNTS"):
        target.probe(STACK)
