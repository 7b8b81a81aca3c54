"""The stack's autoscaling groups kept as EC2 Auto Scaling keeps them, with one app process per
in-service instance.

moto launches a group's instances (from its launch template, in its subnets, with its tags) and
registers them with its target groups; it replaces an instance terminated through the EC2 API
at once, but leaves the replacement out of the target groups. Each `sync`:

- an instance of a group that is no longer running has its process stopped, and the group
  replaces it (`terminate-instance-in-auto-scaling-group` without decrementing the desired
  capacity);
- with `HealthCheckType: ELB`, an instance its target group reports `unhealthy` after the grace
  period is marked Unhealthy and replaced the same way (how a dead app process is replaced);
- an instance in service without a process gets one; a process whose instance left the groups
  is stopped and its target deregistered.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perfenv.cli.targets.local import fleet
from perfenv.cli.targets.local.controller.spec import ControllerSpec
from perfenv.cli.targets.local.scaling import activities
from perfenv.cli.targets.local.scaling.activities import ActivityLog
from perfenv.cli.targets.local.state import ProcessRecord

GONE = ("shutting-down", "terminated", "stopping", "stopped")


@dataclass(kw_only=True)
class GroupView:
    name: str
    desired: int
    min: int
    max: int
    health_check_type: str
    grace_s: float  # local time
    target_groups: list[str]
    in_service: list[str] = field(default_factory=list)


class Groups:
    def __init__(self, spec: ControllerSpec, clients: Any, run_dir: Path) -> None:
        self.spec, self.run_dir = spec, run_dir
        self.autoscaling = clients("autoscaling", spec.region)
        self.ec2 = clients("ec2", spec.region)
        self.elbv2 = clients("elbv2", spec.region)
        self.processes: dict[str, ProcessRecord] = {}  # instance id -> app process
        self.launched_at: dict[str, float] = {}  # instance id -> monotonic time its app started
        self.members: set[str] = set()  # every instance ever seen in a group
        self.booted: set[str] = set()  # instances whose app has listened
        self.views: dict[str, GroupView] = {}
        self.events: list[str] = []  # what happened, for the controller's log
        self.activities: ActivityLog | None = None  # the stack's scaling activities, if kept
        self.arns: dict[str, str] = {}  # group name -> ARN
        self.seen: dict[str, set[str]] = {}  # group name -> its instances at the last sync

    def sync(self, unhealthy: set[str]) -> None:
        """One pass; `unhealthy`: instances a balancer reports unhealthy."""
        groups = self._describe()
        self.arns = {g["AutoScalingGroupName"]: g.get("AutoScalingGroupARN", "") for g in groups}
        states = self._instance_states([i for g in groups for i in g["Instances"]])
        self._note_changes(groups)
        self.views = {}
        for group in groups:
            view = self._view(group)
            for member in group["Instances"]:
                id_ = member["InstanceId"]
                self.members.add(id_)
                if states.get(id_, "terminated") in GONE:
                    self._replace(view.name, id_, f"instance {id_} is {states.get(id_)}")
                elif self._failed_elb(view, id_, unhealthy):
                    self.autoscaling.set_instance_health(InstanceId=id_, HealthStatus="Unhealthy")
                    why = f"instance {id_} failed its ELB health checks"
                    self._replace(view.name, id_, why, elb=True)
                elif member["LifecycleState"] == "InService":
                    view.in_service.append(id_)
            self.views[view.name] = view
        keep = {i for v in self.views.values() for i in v.in_service}
        for id_ in list(self.processes):
            if id_ not in keep:
                self._stop(id_)
        for id_ in sorted(keep - set(self.processes)):
            self._start(id_)

    def registered(self) -> dict[str, dict[str, int]]:
        """Per target group, the registered targets with an app process: {id: port}.

        As Auto Scaling does: in-service instances are registered with the group's target groups
        (moto leaves out a replacement it launched for a terminated instance), and instances
        that left the group are deregistered.
        """
        out: dict[str, dict[str, int]] = {}
        for arn in sorted({tg for v in self.views.values() for tg in v.target_groups}):
            answer = self.elbv2.describe_target_health(TargetGroupArn=arn)
            ids = {d["Target"]["Id"] for d in answer["TargetHealthDescriptions"]}
            members = {
                i for v in self.views.values() if arn in v.target_groups for i in v.in_service
            }
            stale = sorted(i for i in ids - members if i in self.members)
            if stale:
                self.elbv2.deregister_targets(
                    TargetGroupArn=arn, Targets=[{"Id": i} for i in stale]
                )
            missing = sorted(members - ids)
            if missing:
                self.elbv2.register_targets(
                    TargetGroupArn=arn, Targets=[{"Id": i} for i in missing]
                )
                self.events.append(f"registered {', '.join(missing)} with {arn.rsplit(':', 1)[1]}")
            registered = (ids - set(stale)) | set(missing)
            out[arn] = {i: self.processes[i].port for i in sorted(registered) if self._booted(i)}
        return out

    def _booted(self, id_: str) -> bool:
        """Its app listens: the instance has booted (on AWS, launch and user data come before
        the load balancer's first check can pass). A process that died stays booted, and fails."""
        if id_ in self.booted:
            return True
        proc = self.processes.get(id_)
        if proc is None:
            return False
        try:
            socket.create_connection(("127.0.0.1", proc.port), timeout=0.2).close()
        except OSError:
            return not fleet.alive(proc)  # it will never listen: let the checks say so
        self.booted.add(id_)
        return True

    def stop_all(self) -> None:
        fleet.stop(list(self.processes.values()))
        self.processes.clear()

    # --- one step each ---------------------------------------------------------------------

    def _describe(self) -> list[dict[str, Any]]:
        if not self.spec.groups:
            return []
        groups: list[dict[str, Any]] = self.autoscaling.describe_auto_scaling_groups(
            AutoScalingGroupNames=self.spec.groups
        )["AutoScalingGroups"]
        return groups

    def _instance_states(self, members: list[dict[str, Any]]) -> dict[str, str]:
        ids = [m["InstanceId"] for m in members]
        if not ids:
            return {}
        reservations = self.ec2.describe_instances(InstanceIds=ids)["Reservations"]
        return {i["InstanceId"]: i["State"]["Name"] for r in reservations for i in r["Instances"]}

    def _view(self, group: dict[str, Any]) -> GroupView:
        return GroupView(
            name=group["AutoScalingGroupName"],
            desired=int(group["DesiredCapacity"]),
            min=int(group["MinSize"]),
            max=int(group["MaxSize"]),
            health_check_type=group.get("HealthCheckType", "EC2"),
            grace_s=self.spec.scaled(float(group.get("HealthCheckGracePeriod", 0))),
            target_groups=list(group.get("TargetGroupARNs", [])),
        )

    def _failed_elb(self, view: GroupView, id_: str, unhealthy: set[str]) -> bool:
        if view.health_check_type != "ELB" or id_ not in unhealthy:
            return False
        started = self.launched_at.get(id_)
        return started is not None and time.monotonic() - started >= view.grace_s

    def _replace(self, group: str, id_: str, why: str, *, elb: bool = False) -> None:
        self._stop(id_)
        self.autoscaling.terminate_instance_in_auto_scaling_group(
            InstanceId=id_, ShouldDecrementDesiredCapacity=False
        )
        self.events.append(f"{group}: {why}; replacing it")
        if self.activities is not None:
            self._lost(group, id_, elb=elb)

    def _lost(self, group: str, id_: str, *, elb: bool = False) -> None:
        assert self.activities is not None
        now = datetime.now(UTC)
        gone = self.activities.add(
            activities.lost(group, self.arns.get(group, ""), id_, now, elb=elb)
        )
        self.activities.finish(gone, now)

    def _note_changes(self, groups: list[dict[str, Any]]) -> None:
        """Instances that left or joined a group with no activity of the autoscaler's: lost
        (terminated by hand, as moto then replaces them) and their replacements."""
        if self.activities is None:
            return
        for group in groups:
            name = group["AutoScalingGroupName"]
            current = {i["InstanceId"] for i in group["Instances"]}
            before = self.seen.get(name, current)
            for id_ in sorted(before - current):
                if not self.activities.about(id_):
                    self._lost(name, id_)
            for id_ in sorted(current - before):
                if not self.activities.about(id_):
                    arn, now = self.arns.get(name, ""), datetime.now(UTC)
                    self.activities.add(activities.replaced(name, arn, id_, now))
            self.seen[name] = current

    def _start(self, id_: str) -> None:
        self.processes[id_] = fleet.launch(self.spec.command, self.run_dir, id_, self.spec.stack)
        self.launched_at[id_] = time.monotonic()
        self.events.append(f"started the app of {id_} (pid {self.processes[id_].pid})")

    def _stop(self, id_: str) -> None:
        proc = self.processes.pop(id_, None)
        self.launched_at.pop(id_, None)
        self.booted.discard(id_)
        if proc is not None:
            fleet.stop([proc])
            self.events.append(f"stopped the app of {id_} (pid {proc.pid})")
