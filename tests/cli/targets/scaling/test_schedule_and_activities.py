"""Scheduled actions on their cron recurrence, and scaling activities in AWS's shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from perfenv.cli.targets.local.scaling.activities import (
    ActivityLog,
    launched,
    lost,
    replaced,
    terminated,
)
from perfenv.cli.targets.local.scaling.decide import GroupView
from perfenv.cli.targets.local.scaling.schedule import Cron, CronError, ScheduledAction, apply

MONDAY_8 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("expr", "at", "hit"),
    [
        ("0 8 * * *", MONDAY_8, True),
        ("0 8 * * *", MONDAY_8 + timedelta(minutes=1), False),
        ("*/15 * * * *", MONDAY_8 + timedelta(minutes=45), True),
        ("0 8 * * MON-FRI", MONDAY_8, True),
        ("0 8 * * 0,6", MONDAY_8, False),
        ("0 8 * * 7", MONDAY_8 - timedelta(days=1), True),  # 7 is Sunday too
        ("0 8 1 * 1", MONDAY_8, True),  # day 1 or Monday: cron's OR
        ("0 8 15 MAR *", MONDAY_8, False),
        ("0 8 2 MAR *", MONDAY_8, True),
        ("0 6-10/2 * * *", MONDAY_8, True),
    ],
)
def test_cron(expr: str, at: datetime, hit: bool) -> None:
    assert Cron.parse(expr).matches(at) is hit


@pytest.mark.parametrize(
    "bad", ["0 8 * *", "61 * * * *", "0 8 * * FUNDAY", "*/0 * * * *", "5-1 * * * *"]
)
def test_bad_cron(bad: str) -> None:
    with pytest.raises(CronError):
        Cron.parse(bad)


def action(**kw: object) -> ScheduledAction:
    item = {
        "ScheduledActionName": "morning",
        "AutoScalingGroupName": "g",
        "Recurrence": "0 8 * * *",
    }
    return ScheduledAction.from_aws({**item, **kw})


def test_due_finds_the_minute_between_two_checks_and_honours_the_time_zone() -> None:
    morning = action()
    assert (
        morning.due(MONDAY_8 - timedelta(seconds=10), MONDAY_8 + timedelta(seconds=5)) == MONDAY_8
    )
    assert morning.due(MONDAY_8, MONDAY_8 + timedelta(minutes=5)) is None
    paris = action(TimeZone="Europe/Paris")  # 08:00 in Paris is 07:00 UTC in March
    seven = MONDAY_8 - timedelta(hours=1)
    assert paris.due(seven - timedelta(seconds=30), seven + timedelta(seconds=30)) == seven


def test_apply_sets_bounds_and_clamps_desired() -> None:
    view = GroupView(name="g", min=2, max=4, desired=2)
    update = apply(action(MinSize=3, MaxSize=6), view, MONDAY_8)
    assert (update.min, update.max, update.desired) == (3, 6, 3)
    assert update.cause == (
        "At 2026-03-02T08:00:00Z a scheduled action update of AutoScalingGroup constraints to"
        " min: 3, max: 6 changing the desired capacity from 2 to 3."
    )
    same = apply(action(MaxSize=5), view, MONDAY_8)
    assert same.desired == 2 and same.cause.endswith("constraints to max: 5.")


def test_activities_in_aws_shape_and_order(tmp_path: Path) -> None:
    log = ActivityLog(tmp_path / "g.activities.jsonl")
    t0 = MONDAY_8
    reason = (
        "At 2026-03-02T08:00:00Z a monitor alarm A in state ALARM triggered policy p"
        " changing the desired capacity from 2 to 3."
    )
    up = log.add(
        launched(
            "g",
            "arn:g",
            "i-3",
            t0,
            reason=reason,
            previous=2,
            desired=3,
            subnet="subnet-1",
            zone="eu-west-1a",
        )
    )
    assert up.as_aws()["StatusCode"] == "PreInService" and "EndTime" not in up.as_aws()
    assert up.cause.startswith(reason + "  At 2026-03-02T08:00:00Z an instance was started")
    assert up.cause.endswith("increasing the capacity from 2 to 3.")
    assert json.loads(up.as_aws()["Details"]) == {
        "Subnet ID": "subnet-1",
        "Availability Zone": "eu-west-1a",
    }
    down = log.add(
        terminated(
            "g", "arn:g", "i-1", t0 - timedelta(minutes=5), reason="r.", previous=3, desired=2
        )
    )
    log.finish(down, t0 - timedelta(minutes=4))
    gone = log.add(lost("g", "arn:g", "i-2", t0 - timedelta(minutes=1)))
    log.finish(gone, t0 - timedelta(seconds=50))
    again = log.add(replaced("g", "arn:g", "i-4", t0 - timedelta(seconds=50)))
    log.finish(again, t0 - timedelta(seconds=30), "Failed", "no")
    listed = log.describe("g")
    assert [a["Description"][-3:] for a in listed] == ["i-3", "i-4", "i-2", "i-1"]
    assert listed[2]["Cause"].endswith(
        "in response to an EC2 health check indicating it has been terminated or stopped."
    )
    assert listed[1]["StatusCode"] == "Failed" and listed[1]["Progress"] == 100
    assert "i-1 was selected for termination." in listed[3]["Cause"]
    assert log.describe("other") == [] and len(log.open("g")) == 1
    assert log.about("i-4") and log.about("i-1") and not log.about("i-9")
    # another process reads the same answer from the file
    assert ActivityLog.read(tmp_path / "g.activities.jsonl").describe("g") == listed
    assert ActivityLog.read(tmp_path / "missing.jsonl").describe() == []
