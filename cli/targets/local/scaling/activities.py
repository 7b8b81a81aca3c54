"""Scaling activities in AWS's shape, as `describe-scaling-activities` answers them.

One activity per instance launched or terminated, its cause the chain of events that led to it
("At ... a monitor alarm ... triggered policy ... changing the desired capacity from 2 to 3.
At ... an instance was started in response to a difference between desired and actual
capacity, increasing the capacity from 2 to 3."). An activity stays in progress until the
instance is in service (or gone), then it is Successful or Failed with its end time. The log
lists activities in progress first, then the newest.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from perfenv.cli.targets.local.scaling.decide import stamp


@dataclass
class Activity:
    group: str
    group_arn: str
    description: str
    cause: str
    start: datetime
    details: dict[str, str] = field(default_factory=dict)
    status: str = "InProgress"
    progress: int = 30
    end: datetime | None = None
    status_message: str | None = None
    activity_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def finish(self, at: datetime, status: str = "Successful", message: str | None = None) -> None:
        self.status, self.progress, self.end, self.status_message = status, 100, at, message

    def as_aws(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "ActivityId": self.activity_id,
            "AutoScalingGroupName": self.group,
            "Description": self.description,
            "Cause": self.cause,
            "StartTime": self.start,
            "StatusCode": self.status,
            "Progress": self.progress,
            "Details": json.dumps(self.details),
            "AutoScalingGroupARN": self.group_arn,
        }
        if self.end is not None:
            item["EndTime"] = self.end
        if self.status_message:
            item["StatusMessage"] = self.status_message
        return item


def _details(subnet: str | None, zone: str | None) -> dict[str, str]:
    out = {}
    if subnet:
        out["Subnet ID"] = subnet
    if zone:
        out["Availability Zone"] = zone
    return out


def launched(
    group: str,
    arn: str,
    instance_id: str,
    at: datetime,
    *,
    reason: str,
    previous: int,
    desired: int,
    subnet: str | None = None,
    zone: str | None = None,
) -> Activity:
    """A launch to reach a new desired capacity; `reason` says what changed the capacity."""
    cause = (
        f"{reason}  At {stamp(at)} an instance was started in response to a difference between"
        f" desired and actual capacity, increasing the capacity from {previous} to {desired}."
    )
    return Activity(
        group,
        arn,
        f"Launching a new EC2 instance: {instance_id}",
        cause,
        at,
        _details(subnet, zone),
        status="PreInService",
    )


def terminated(
    group: str,
    arn: str,
    instance_id: str,
    at: datetime,
    *,
    reason: str,
    previous: int,
    desired: int,
    subnet: str | None = None,
    zone: str | None = None,
) -> Activity:
    """A termination to shrink to a new desired capacity."""
    cause = (
        f"{reason}  At {stamp(at)} an instance was taken out of service in response to a"
        f" difference between desired and actual capacity, shrinking the capacity from"
        f" {previous} to {desired}.  At {stamp(at)} instance {instance_id} was selected for"
        " termination."
    )
    return Activity(
        group, arn, f"Terminating EC2 instance: {instance_id}", cause, at, _details(subnet, zone)
    )


def lost(group: str, arn: str, instance_id: str, at: datetime, *, elb: bool = False) -> Activity:
    """An instance taken out of service because it is gone (EC2 check) or failed the ELB check."""
    why = (
        "an ELB system health check failure"
        if elb
        else "an EC2 health check indicating it has been terminated or stopped"
    )
    cause = f"At {stamp(at)} an instance was taken out of service in response to {why}."
    return Activity(group, arn, f"Terminating EC2 instance: {instance_id}", cause, at)


def replaced(
    group: str,
    arn: str,
    instance_id: str,
    at: datetime,
    *,
    subnet: str | None = None,
    zone: str | None = None,
) -> Activity:
    """The launch that replaces an unhealthy instance."""
    cause = (
        f"At {stamp(at)} an instance was launched in response to an unhealthy instance"
        " needing to be replaced."
    )
    return Activity(
        group,
        arn,
        f"Launching a new EC2 instance: {instance_id}",
        cause,
        at,
        _details(subnet, zone),
        status="PreInService",
    )


class ActivityLog:
    """The activities of a stack's groups, kept in a JSON-lines file when given one.

    Each change appends the activity's whole record, so a reader in another process (the
    emulator, answering DescribeScalingActivities) folds the file by activity id.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._items: dict[str, Activity] = {}
        self._lock = threading.Lock()

    def add(self, activity: Activity) -> Activity:
        with self._lock:
            self._items[activity.activity_id] = activity
            self._write(activity)
        return activity

    def finish(
        self,
        activity: Activity,
        at: datetime,
        status: str = "Successful",
        message: str | None = None,
    ) -> None:
        with self._lock:
            activity.finish(at, status, message)
            self._write(activity)

    def _write(self, activity: Activity) -> None:
        if self.path is None:
            return
        record = {**dataclasses.asdict(activity), "start": activity.start.isoformat()}
        record["end"] = activity.end.isoformat() if activity.end else None
        with open(self.path, "a") as stream:
            stream.write(json.dumps(record) + "\n")

    def about(self, instance_id: str) -> bool:
        """Whether an activity launched or terminated `instance_id`."""
        with self._lock:
            return any(a.description.endswith(f" {instance_id}") for a in self._items.values())

    def open(self, group: str) -> list[Activity]:
        with self._lock:
            return [a for a in self._items.values() if a.group == group and a.end is None]

    def describe(
        self, group: str | None = None, ids: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """As DescribeScalingActivities lists them: in progress first, then newest first."""
        with self._lock:
            found = [
                a
                for a in self._items.values()
                if (group is None or a.group == group) and (not ids or a.activity_id in ids)
            ]
        found.sort(key=lambda a: (a.end is not None, -a.start.timestamp()))
        return [a.as_aws() for a in found]

    @classmethod
    def read(cls, path: Path) -> ActivityLog:
        """The log another process keeps in `path` (a torn last line is skipped)."""
        log = cls()
        try:
            lines = path.read_text().splitlines()
        except OSError:
            return log
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            record["start"] = datetime.fromisoformat(record["start"])
            record["end"] = datetime.fromisoformat(record["end"]) if record["end"] else None
            activity = Activity(**record)
            log._items[activity.activity_id] = activity
        return log
