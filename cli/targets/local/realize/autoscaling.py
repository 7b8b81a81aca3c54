"""Auto Scaling: groups (moto launches their instances), scaling policies, scheduled actions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from perfenv.cli.targets.local.realize.base import (
    ACCOUNT,
    Ctx,
    Inputs,
    Outputs,
    as_list,
    compact,
    ignore_gone,
    physical_name,
    register,
    to_int,
    with_outputs,
)
from perfenv.cli.targets.local.realize.ec2 import terminate_instances


def _asg_tags(ctx: Ctx, inputs: Inputs, name: str) -> list[dict[str, Any]]:
    """The perfenv and default tags (propagated to instances), then the program's own."""
    tags = {k: (v, True) for k, v in ctx.tags.items()}
    for tag in as_list(inputs.get("tags")):
        tags[tag["key"]] = (tag["value"], bool(tag.get("propagateAtLaunch", True)))
    return [
        {
            "ResourceId": name,
            "ResourceType": "auto-scaling-group",
            "Key": key,
            "Value": str(value),
            "PropagateAtLaunch": propagate,
        }
        for key, (value, propagate) in sorted(tags.items())
    ]


def _launch_template(spec: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not spec:
        return None
    return compact(
        LaunchTemplateId=spec.get("id"),
        LaunchTemplateName=spec.get("name") if not spec.get("id") else None,
        Version=str(spec.get("version") or "$Default"),
    )


def create_group(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    autoscaling = ctx.client("autoscaling")
    name = physical_name(ctx, inputs, limit=255)
    autoscaling.create_auto_scaling_group(
        **compact(
            AutoScalingGroupName=name,
            MinSize=to_int(inputs.get("minSize"), 0),
            MaxSize=to_int(inputs.get("maxSize"), 0),
            DesiredCapacity=to_int(inputs.get("desiredCapacity")),
            DefaultCooldown=to_int(inputs.get("defaultCooldown")),
            HealthCheckType=inputs.get("healthCheckType"),
            HealthCheckGracePeriod=to_int(inputs.get("healthCheckGracePeriod")),
            LaunchTemplate=_launch_template(inputs.get("launchTemplate")),
            VPCZoneIdentifier=",".join(as_list(inputs.get("vpcZoneIdentifiers"))) or None,
            AvailabilityZones=as_list(inputs.get("availabilityZones")),
            TargetGroupARNs=as_list(inputs.get("targetGroupArns")),
            TerminationPolicies=as_list(inputs.get("terminationPolicies")),
            Tags=_asg_tags(ctx, inputs, name),
        )
    )
    if inputs.get("enabledMetrics"):
        autoscaling.enable_metrics_collection(
            AutoScalingGroupName=name,
            Metrics=as_list(inputs["enabledMetrics"]),
            Granularity=inputs.get("metricsGranularity") or "1Minute",
        )
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
        "AutoScalingGroups"
    ][0]
    return name, with_outputs(
        inputs,
        ctx,
        id=name,
        name=name,
        arn=group.get("AutoScalingGroupARN"),
        availabilityZones=group.get("AvailabilityZones"),
    )


def delete_group(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(
        lambda: ctx.client("autoscaling").delete_auto_scaling_group(
            AutoScalingGroupName=id_, ForceDelete=True
        ),
        "ValidationError",
    )
    # A force delete terminates the group's instances; make sure none outlive it.
    terminate_instances(ctx, [{"Name": "tag:aws:autoscaling:groupName", "Values": [id_]}])


def create_policy(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    name = physical_name(ctx, inputs, limit=255)
    group = inputs["autoscalingGroupName"]
    tracking = inputs.get("targetTrackingConfiguration")
    config = None
    if tracking:
        predefined = tracking.get("predefinedMetricSpecification") or {}
        config = compact(
            PredefinedMetricSpecification=compact(
                PredefinedMetricType=predefined.get("predefinedMetricType"),
                ResourceLabel=predefined.get("resourceLabel"),
            ),
            TargetValue=float(tracking.get("targetValue", 0)),
            DisableScaleIn=tracking.get("disableScaleIn"),
        )
    response = ctx.client("autoscaling").put_scaling_policy(
        **compact(
            AutoScalingGroupName=group,
            PolicyName=name,
            PolicyType=inputs.get("policyType"),
            AdjustmentType=inputs.get("adjustmentType"),
            ScalingAdjustment=to_int(inputs.get("scalingAdjustment")),
            Cooldown=to_int(inputs.get("cooldown")),
            EstimatedInstanceWarmup=to_int(inputs.get("estimatedInstanceWarmup")),
            TargetTrackingConfiguration=config,
        )
    )
    # moto returns no PolicyARN; AWS's has this form.
    arn = response.get("PolicyARN") or (
        f"arn:aws:autoscaling:{ctx.region}:{ACCOUNT}:scalingPolicy:00000000-0000-0000-0000-"
        f"000000000000:autoScalingGroupName/{group}:policyName/{name}"
    )
    return name, with_outputs(inputs, ctx, id=name, name=name, arn=arn)


def delete_policy(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(
        lambda: ctx.client("autoscaling").delete_policy(
            AutoScalingGroupName=state["autoscalingGroupName"], PolicyName=id_
        ),
        "ValidationError",
    )


def create_schedule(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    name = str(inputs["scheduledActionName"])
    group = inputs["autoscalingGroupName"]
    autoscaling = ctx.client("autoscaling")
    autoscaling.put_scheduled_update_group_action(
        **compact(
            AutoScalingGroupName=group,
            ScheduledActionName=name,
            Recurrence=inputs.get("recurrence"),
            MinSize=to_int(inputs.get("minSize")),
            MaxSize=to_int(inputs.get("maxSize")),
            DesiredCapacity=to_int(inputs.get("desiredCapacity")),
            TimeZone=inputs.get("timeZone"),
            StartTime=inputs.get("startTime"),
            EndTime=inputs.get("endTime"),
        )
    )
    actions = autoscaling.describe_scheduled_actions(
        AutoScalingGroupName=group, ScheduledActionNames=[name]
    )["ScheduledUpdateGroupActions"]
    arn = actions[0].get("ScheduledActionARN") if actions else None
    return name, with_outputs(inputs, ctx, id=name, arn=arn)


def delete_schedule(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(
        lambda: ctx.client("autoscaling").delete_scheduled_action(
            AutoScalingGroupName=state["autoscalingGroupName"], ScheduledActionName=id_
        ),
        "ValidationError",
    )


register(create_group, delete_group, "aws:autoscaling/group:Group")
register(create_policy, delete_policy, "aws:autoscaling/policy:Policy", taggable=False)
register(create_schedule, delete_schedule, "aws:autoscaling/schedule:Schedule", taggable=False)
