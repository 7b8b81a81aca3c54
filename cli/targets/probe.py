"""Watching a stack's environment while a scenario runs, with the same AWS calls on both targets.

A `Probe` samples every second which instances of the stack's groups are in service behind
their target groups (healthy targets, or InService instances for a group without any). For a
failover it loses one of them on cue through its target's `lose` (locally: SIGKILL its process
and terminate the instance; on AWS: `ec2 terminate-instances`, never the Auto Scaling API,
which would drain it first), then notes when the balancer stopped sending to it (its target
left the healthy set) and when a replacement was in service. When the scenario ends it reads
the window's scaling activities and alarm history and hands the judge `Events`, in seconds
since the scenario's start.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from perfenv.cli.verdict.behaviour import Events

Clients = Callable[[str], Any]  # service -> boto3 client in the stack's region
_CAPACITY = re.compile(r"changing the desired capacity from (\d+) to (\d+)")
_SUMMARY = re.compile(r"^Alarm updated from (\S+) to (\S+)$")
STACK_TAG = "perfenv:stack"


def stack_groups(clients: Clients, stack: str) -> list[str]:
    """The stack's serving groups (see `serving_groups`), by their perfenv:stack tag."""
    tags = clients("autoscaling").describe_tags(
        Filters=[{"Name": "key", "Values": [STACK_TAG]}, {"Name": "value", "Values": [stack]}]
    )["Tags"]
    names = {t["ResourceId"] for t in tags if t.get("ResourceType") == "auto-scaling-group"}
    return serving_groups(clients, sorted(names))


def serving_groups(clients: Clients, names: list[str]) -> list[str]:
    """The groups behind a load balancer (the app's fleet, not the load generators'); all of
    them when none is."""
    if not names:
        return []
    found = clients("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=names)
    behind = sorted(
        g["AutoScalingGroupName"] for g in found["AutoScalingGroups"] if g.get("TargetGroupARNs")
    )
    return behind or names


def stack_alarms(clients: Clients, stack: str, groups: Iterable[str]) -> Callable[[str], bool]:
    """Whether an alarm is the stack's: tagged with it, or owned by its groups' target tracking."""
    pages = (
        clients("resourcegroupstaggingapi")
        .get_paginator("get_resources")
        .paginate(
            TagFilters=[{"Key": STACK_TAG, "Values": [stack]}],
            ResourceTypeFilters=["cloudwatch:alarm"],
        )
    )
    names = {
        m["ResourceARN"].split(":alarm:", 1)[-1]
        for page in pages
        for m in page["ResourceTagMappingList"]
    }
    prefixes = tuple(f"TargetTracking-{g}-" for g in groups)
    return lambda name: name in names or name.startswith(prefixes)


class Probe:
    def __init__(
        self,
        clients: Clients,
        groups: list[str],
        lose: Callable[[str], None],
        is_stack_alarm: Callable[[str], bool],
        *,
        interval_s: float = 1.0,
    ) -> None:
        self.clients, self.groups, self.lose = clients, groups, lose
        self.is_stack_alarm, self.interval_s = is_stack_alarm, interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.problems: list[str] = []

    # --- during the scenario ----------------------------------------------------------------

    def begin(self, *, failover: bool = False, fail_at: float | None = None) -> None:
        """Start watching. A failover loses an instance on `trigger()`, or `fail_at` seconds
        after this call when given (for engines that report no seconds while they run)."""
        self.t0 = time.time()
        self.failover, self.fail_at, self._due = failover, fail_at, False
        self.serving: set[str] = set()
        self.in_service: list[tuple[float, int]] = []
        self.lost: str | None = None
        self.lost_at = self.stopped_at = self.replaced_at = None  # type: float | None
        self.before: set[str] = set()
        self._stop.clear()
        self._sample()
        self._thread = threading.Thread(target=self._run, name="perfenv-probe", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                late = self.fail_at is not None and time.time() - self.t0 >= self.fail_at
                if self.failover and self.lost is None and (self._due or late):
                    self._lose_one()
                self._sample()
            except Exception as exc:  # noqa: BLE001 - a probe failing must not stop the load
                self.problems.append(" ".join(str(exc).split()))

    def trigger(self) -> None:
        """Lose the instance now (at the next sample): the scenario reached its fail_at."""
        self._due = True

    def _serving(self) -> set[str]:
        answer = self.clients("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=self.groups
        )
        serving: set[str] = set()
        elbv2 = self.clients("elbv2")
        for group in answer["AutoScalingGroups"]:
            arns = group.get("TargetGroupARNs") or []
            if not arns:
                serving |= {
                    i["InstanceId"]
                    for i in group.get("Instances", [])
                    if i["LifecycleState"] == "InService"
                }
            for arn in arns:
                found = elbv2.describe_target_health(TargetGroupArn=arn)
                serving |= {
                    d["Target"]["Id"]
                    for d in found["TargetHealthDescriptions"]
                    if d["TargetHealth"]["State"] == "healthy"
                }
        return serving

    def _sample(self) -> None:
        serving, t = self._serving(), round(time.time() - self.t0, 3)
        if not self.in_service or len(serving) != self.in_service[-1][1]:
            self.in_service.append((t, len(serving)))
        if self.lost is not None:
            if self.stopped_at is None and self.lost not in serving:
                self.stopped_at = t
            if (
                self.replaced_at is None
                and serving - self.before
                and len(serving) >= len(self.before)
            ):
                self.replaced_at = t
        self.serving = serving

    def _lose_one(self) -> None:
        if not self.serving:
            self.problems.append("no instance in service to lose")
            self.failover = False
            return
        victim = sorted(self.serving)[0]
        self.before = set(self.serving)
        self.lose(victim)
        self.lost, self.lost_at = victim, round(time.time() - self.t0, 3)

    # --- after the scenario -----------------------------------------------------------------

    def end(self) -> Events:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        end = time.time()
        try:
            scale_outs = self._scale_outs(end)
            alarms = self._alarms(end)
        except Exception as exc:  # noqa: BLE001 - say so; the scenario's load still counts
            self.problems.append(" ".join(str(exc).split()))
            scale_outs, alarms = (), ()
        return Events(
            scale_outs=scale_outs,
            in_service=tuple(self.in_service),
            lost_instance=self.lost,
            lost_at=self.lost_at,
            stopped_sending_at=self.stopped_at,
            replaced_at=self.replaced_at,
            alarms=alarms,
        )

    def _scale_outs(self, end: float) -> tuple[float, ...]:
        autoscaling, found = self.clients("autoscaling"), []
        for group in self.groups:
            pages = autoscaling.get_paginator("describe_scaling_activities").paginate(
                AutoScalingGroupName=group
            )
            for page in pages:
                for activity in page["Activities"]:
                    at = activity["StartTime"].timestamp()
                    change = _CAPACITY.search(activity.get("Cause", ""))
                    if self.t0 <= at <= end and change and int(change[2]) > int(change[1]):
                        found.append(round(at - self.t0, 3))
        return tuple(sorted(set(found)))

    def _alarms(self, end: float) -> tuple[dict[str, Any], ...]:
        answer = self.clients("cloudwatch").describe_alarm_history(
            HistoryItemType="StateUpdate",
            StartDate=datetime.fromtimestamp(self.t0, UTC),
            EndDate=datetime.fromtimestamp(end, UTC),
            ScanBy="TimestampAscending",
        )
        out = []
        for item in answer["AlarmHistoryItems"]:
            change = _SUMMARY.match(item.get("HistorySummary", ""))
            if change and self.is_stack_alarm(item["AlarmName"]):
                t = round(item["Timestamp"].timestamp() - self.t0, 3)
                out.append({"t": t, "alarm": item["AlarmName"], "from": change[1], "to": change[2]})
        return tuple(out)
