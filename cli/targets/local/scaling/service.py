"""EC2 Auto Scaling for a local stack, run by its controller once per period.

At start it reads the groups' target tracking policies and creates the two alarms AWS would
for each (the alarm evaluator then evaluates them with the others). Each period, per group:
it closes the activities that finished (a launch once its instance is healthy in the group's
target groups, or in service without any; a termination once the instance left the group),
runs the scheduled actions that came due, reads each policy's alarms and metric, and applies
what `decide` says: SetDesiredCapacity to scale out (moto launches the instances, the
controller starts their processes), TerminateInstanceInAutoScalingGroup for the instances
chosen to scale in. Every launch and termination is an activity in the stack's log, which the
emulator serves to `describe-scaling-activities`. Warm-ups and cooldowns run on the local
clock (divided by the time scale), as every local period does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from perfenv.cli.targets.local.alarms.model import INSUFFICIENT, Unsupported
from perfenv.cli.targets.local.alarms.service import AlarmEvaluator
from perfenv.cli.targets.local.scaling import activities as acts
from perfenv.cli.targets.local.scaling.decide import (
    Decision,
    GroupView,
    Member,
    Reading,
    decide,
    to_terminate,
    warming,
    warmup_s,
)
from perfenv.cli.targets.local.scaling.policies import TargetTracking
from perfenv.cli.targets.local.scaling.schedule import CronError, ScheduledAction, apply

AWS_PERIOD_S = 60  # target tracking's metric period on AWS (standard resolution)


class Autoscaler:
    def __init__(
        self,
        clients: Callable[[str], Any],
        groups: list[str],
        log: acts.ActivityLog,
        evaluator: AlarmEvaluator,
        time_scale: float,
    ) -> None:
        self.autoscaling, self.elbv2 = clients("autoscaling"), clients("elbv2")
        self.cloudwatch = clients("cloudwatch")
        self.groups, self.log, self.evaluator = groups, log, evaluator
        self.time_scale = time_scale
        self.policies: dict[str, list[TargetTracking]] = {}
        self.skipped: dict[str, str] = {}  # policy or action -> why it does not run locally
        self.in_service_at: dict[str, datetime] = {}
        self.last_end: dict[str, datetime] = {}  # group -> when its last activity ended
        self.last_tick: datetime | None = None

    def _local(self, seconds: float) -> int:
        return max(0, round(seconds / self.time_scale))

    # --- set-up -----------------------------------------------------------------------------

    def setup(self) -> None:
        """Read the policies and create the alarms target tracking owns."""
        for group in self.groups:
            found = self.autoscaling.describe_policies(AutoScalingGroupName=group)
            tracked = []
            for item in found.get("ScalingPolicies", []):
                try:
                    policy = TargetTracking.from_aws(item, period=AWS_PERIOD_S)
                except Unsupported as exc:
                    self.skipped[str(item.get("PolicyName"))] = str(exc)
                    continue
                for request in policy.alarms():
                    self.cloudwatch.put_metric_alarm(**request)
                self.evaluator.watch(policy.alarm_names[: len(policy.alarms())])
                tracked.append(policy)
            self.policies[group] = tracked

    # --- each period ------------------------------------------------------------------------

    def period(self, start: int, period_s: int) -> None:
        """The controller's period hook (after the alarm evaluator's), on the wall clock: the
        activities' times are when they happened, after the alarms that caused them."""
        end = datetime.fromtimestamp(start + period_s, UTC)
        self.tick(end, at=max(end, datetime.now(UTC)))

    def tick(self, now: datetime, at: datetime | None = None) -> None:
        """Act on the periods up to `now`; activities are stamped `at` (default `now`)."""
        at = at or now
        answer = self.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=self.groups)
        for group in answer["AutoScalingGroups"]:
            view = self._view(group, at)
            self._close(group, view, at)
            view = self._scheduled(group, view, now, at)
            decision = decide(
                view,
                self._readings(group["AutoScalingGroupName"], view, now),
                now,
                last_activity_end=self.last_end.get(view.name),
            )
            if decision is not None:
                self._apply(group, view, replace(decision, at=at), at)
        self.last_tick = now

    def _view(self, group: dict[str, Any], now: datetime) -> GroupView:
        members = []
        for instance in group.get("Instances", []):
            state = str(instance["LifecycleState"])
            if state == "InService":
                self.in_service_at.setdefault(instance["InstanceId"], now)
            members.append(
                Member(
                    instance_id=instance["InstanceId"],
                    zone=instance.get("AvailabilityZone", ""),
                    lifecycle=state,
                    in_service_at=self.in_service_at.get(instance["InstanceId"]),
                )
            )
        warm = group.get("DefaultInstanceWarmup")
        return GroupView(
            name=group["AutoScalingGroupName"],
            min=int(group["MinSize"]),
            max=int(group["MaxSize"]),
            desired=int(group["DesiredCapacity"]),
            members=tuple(members),
            default_cooldown_s=self._local(group.get("DefaultCooldown", 300)),
            default_warmup_s=self._local(warm) if warm is not None and warm >= 0 else None,
        )

    def _healthy(self, group: dict[str, Any]) -> set[str]:
        healthy: set[str] = set()
        for arn in group.get("TargetGroupARNs", []):
            for target in self.elbv2.describe_target_health(TargetGroupArn=arn)[
                "TargetHealthDescriptions"
            ]:
                if target["TargetHealth"]["State"] == "healthy":
                    healthy.add(target["Target"]["Id"])
        return healthy

    def _close(self, group: dict[str, Any], view: GroupView, now: datetime) -> None:
        open_ = self.log.open(view.name)
        if not open_:
            return
        present = {m.instance_id for m in view.members}
        serving = (
            self._healthy(group)
            if group.get("TargetGroupARNs")
            else {m.instance_id for m in view.members if m.lifecycle == "InService"}
        )
        for activity in open_:
            instance = activity.description.rsplit(" ", 1)[-1]
            if activity.description.startswith("Launching"):
                if instance in serving:
                    self.log.finish(activity, now)
                elif instance not in present:
                    self.log.finish(activity, now, "Failed", "the instance is gone")
            elif instance not in present:
                self.log.finish(activity, now)
            if activity.end is not None:
                self.last_end[view.name] = now

    def _scheduled(
        self, group: dict[str, Any], view: GroupView, now: datetime, at: datetime
    ) -> GroupView:
        since = self.last_tick or now - timedelta(minutes=1)
        found = self.autoscaling.describe_scheduled_actions(AutoScalingGroupName=view.name)
        for item in found.get("ScheduledUpdateGroupActions", []):
            try:
                action = ScheduledAction.from_aws(item)
            except CronError as exc:
                self.skipped[str(item.get("ScheduledActionName"))] = str(exc)
                continue
            due = action.due(since, now)
            if due is None:
                continue
            update = apply(action, view, due)
            before = {m.instance_id for m in view.members}
            self.autoscaling.update_auto_scaling_group(
                AutoScalingGroupName=view.name,
                MinSize=update.min,
                MaxSize=update.max,
                DesiredCapacity=update.desired,
            )
            self._record(
                view.name, group, before, update.cause, update.previous, update.desired, at
            )
            view = replace(view, min=update.min, max=update.max, desired=update.desired)
        return view

    def _readings(self, group: str, view: GroupView, now: datetime) -> list[Reading]:
        readings = []
        for policy in self.policies.get(group, []):
            local = replace(
                policy,
                warmup_s=self._local(policy.warmup_s) if policy.warmup_s is not None else None,
                metric=replace(policy.metric, period=self._local(policy.metric.period) or 1),
            )
            names = policy.alarm_names[: len(policy.alarms())]
            states = {
                a["AlarmName"]: a["StateValue"]
                for a in self.cloudwatch.describe_alarms(AlarmNames=list(names))["MetricAlarms"]
            }
            period = local.metric.period
            values = self.evaluator.source.series(
                local.metric, now - timedelta(seconds=3 * period), now
            )
            latest = values[max(values)] if values else None
            ready = [m for m in view.members if m.lifecycle == "InService"]
            basis = len(ready) - len(warming(view, warmup_s(local, view), now))
            is_cpu = local.metric.name == "CPUUtilization"
            readings.append(
                Reading(
                    policy=local,
                    high_state=states.get(names[0], INSUFFICIENT),
                    low_state=states.get(names[1], INSUFFICIENT)
                    if len(names) > 1
                    else INSUFFICIENT,
                    value=latest,
                    basis=max(1, basis if is_cpu else len(ready)),
                )
            )
        return readings

    def _apply(
        self, group: dict[str, Any], view: GroupView, decision: Decision, now: datetime
    ) -> None:
        before = {m.instance_id for m in view.members}
        if decision.direction == "out":
            self.autoscaling.set_desired_capacity(
                AutoScalingGroupName=view.name,
                DesiredCapacity=decision.desired,
                HonorCooldown=False,
            )
            self._record(
                view.name, group, before, decision.cause, decision.previous, decision.desired, now
            )
            return
        for member in to_terminate(view, decision.previous - decision.desired):
            self.autoscaling.terminate_instance_in_auto_scaling_group(
                InstanceId=member.instance_id, ShouldDecrementDesiredCapacity=True
            )
            self.log.add(
                acts.terminated(
                    view.name,
                    group.get("AutoScalingGroupARN", ""),
                    member.instance_id,
                    now,
                    reason=decision.cause,
                    previous=decision.previous,
                    desired=decision.desired,
                    zone=member.zone,
                )
            )

    def _record(
        self,
        name: str,
        group: dict[str, Any],
        before: set[str],
        reason: str,
        previous: int,
        desired: int,
        now: datetime,
    ) -> None:
        """Activities for the instances a capacity change launched or removed."""
        after = self.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])
        instances = {
            i["InstanceId"]: i for g in after["AutoScalingGroups"] for i in g.get("Instances", [])
        }
        arn = group.get("AutoScalingGroupARN", "")
        for instance_id in sorted(set(instances) - before):
            zone = instances[instance_id].get("AvailabilityZone")
            self.log.add(
                acts.launched(
                    name,
                    arn,
                    instance_id,
                    now,
                    reason=reason,
                    previous=previous,
                    desired=desired,
                    zone=zone,
                )
            )
        for instance_id in sorted(before - set(instances)):
            self.log.add(
                acts.terminated(
                    name, arn, instance_id, now, reason=reason, previous=previous, desired=desired
                )
            )
