"""perfenv's emulator extensions: each one answered by the real AWS CLI against the emulator."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from perfenv.cli.targets.local import emulator, fleet

pytestmark = pytest.mark.slow
AWS = Path(sys.executable).with_name("aws")


@pytest.fixture
def endpoint() -> Iterator[str]:
    url = emulator.ensure_running()
    try:
        yield url
    finally:
        fleet.terminate(int(emulator.status()["pid"]))


def aws(endpoint: str, *args: str) -> Any:
    out = subprocess.run(
        [str(AWS), "--endpoint-url", endpoint, "--region", "eu-west-1", "--output", "json", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return json.loads(out)


def post(endpoint: str, path: str, body: dict[str, Any]) -> int:
    request = urllib.request.Request(
        f"{endpoint}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def test_describe_target_health_answers_what_the_balancer_saw(endpoint: str) -> None:
    ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name="eu-west-1")
    elbv2 = boto3.client("elbv2", endpoint_url=endpoint, region_name="eu-west-1")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"eu-west-1{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    image = ec2.describe_images()["Images"]
    instances = ec2.run_instances(
        ImageId=image[0]["ImageId"] if image else "ami-12c6146b",
        MinCount=2,
        MaxCount=2,
        SubnetId=subnets[0],
    )["Instances"]
    a, b = (i["InstanceId"] for i in instances)
    tg = elbv2.create_target_group(Name="tg", Protocol="HTTP", Port=8080, VpcId=vpc)[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": a}, {"Id": b}])

    def health() -> dict[str, tuple[str, str | None]]:
        answer = aws(endpoint, "elbv2", "describe-target-health", "--target-group-arn", tg)
        return {
            d["Target"]["Id"]: (d["TargetHealth"]["State"], d["TargetHealth"].get("Reason"))
            for d in answer["TargetHealthDescriptions"]
        }

    # No listener uses the group: unused, as on AWS (moto says healthy).
    assert health() == {a: ("unused", "Target.NotInUse"), b: ("unused", "Target.NotInUse")}
    lb = elbv2.create_load_balancer(Name="lb", Subnets=subnets)["LoadBalancers"][0]
    elbv2.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    assert health()[a] == ("initial", "Elb.RegistrationInProgress")  # no balancer checked yet

    seen = {
        a: {"state": "healthy"},
        b: {"state": "unhealthy", "reason": "Target.Timeout", "description": "Request timed out"},
    }
    assert (
        post(endpoint, "/perfenv/target-health", {"target_group_arn": tg, "targets": seen}) == 200
    )
    assert health() == {a: ("healthy", None), b: ("unhealthy", "Target.Timeout")}

    # Deregistered: moto's own answer (not registered) stands, whatever was reported.
    elbv2.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": b}])
    assert set(health()) == {a}
    with pytest.raises(urllib.error.HTTPError):
        post(endpoint, "/perfenv/target-health", {"targets": {}})  # no target group: 400
