"""DescribeScalingActivities served from the activities autoscalers record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from perfenv.cli.targets.local.scaling import emulated
from perfenv.cli.targets.local.scaling.activities import ActivityLog, launched, lost

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _file(directory: Path, stack: str) -> Path:
    (directory / stack).mkdir()
    return directory / stack / emulated.FILE


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Path]:
    emulated.install(tmp_path)
    try:
        with mock_aws():
            yield tmp_path
    finally:
        emulated.uninstall()


def test_activities_of_two_stacks_served_per_group(served: Path) -> None:
    one = ActivityLog(_file(served, "perf-a"))
    two = ActivityLog(_file(served, "perf-b"))
    gone = one.add(lost("asg-a", "arn:a", "i-1", T0))
    one.finish(gone, T0 + timedelta(seconds=1))
    one.add(
        launched(
            "asg-a", "arn:a", "i-2", T0 + timedelta(seconds=2), reason="r.", previous=1, desired=2
        )
    )
    two.add(lost("asg-b", "arn:b", "i-9", T0))
    client = boto3.client("autoscaling", region_name="eu-west-1")
    found = client.describe_scaling_activities(AutoScalingGroupName="asg-a")["Activities"]
    assert [a["Description"] for a in found] == [
        "Launching a new EC2 instance: i-2",
        "Terminating EC2 instance: i-1",
    ]
    assert found[0]["StatusCode"] == "PreInService" and found[1]["StatusCode"] == "Successful"
    assert "EndTime" in found[1] and found[1]["StartTime"] == T0
    assert len(client.describe_scaling_activities()["Activities"]) == 3
    assert len(client.describe_scaling_activities(MaxRecords=1)["Activities"]) == 1
    by_id = client.describe_scaling_activities(ActivityIds=[gone.activity_id])["Activities"]
    assert [a["ActivityId"] for a in by_id] == [gone.activity_id]


def test_without_the_patch_moto_answers_nothing(tmp_path: Path) -> None:
    ActivityLog(_file(tmp_path, "x")).add(lost("g", "arn", "i-1", T0))
    with mock_aws():
        client = boto3.client("autoscaling", region_name="eu-west-1")
        assert client.describe_scaling_activities()["Activities"] == []
