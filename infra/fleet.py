"""Fleet: the launch template and autoscaling group that run the app on EC2."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws.autoscaling
import pulumi_aws.ec2

from perfenv.infra.config import FleetConfig
from perfenv.infra.launch_template import launch_template
from perfenv.infra.tags import role_tag

HEALTH_CHECK_GRACE_S = 120
MIN_HEALTHY_PERCENT = 90
GROUP_METRICS = (
    pulumi_aws.autoscaling.Metric.GROUP_DESIRED_CAPACITY,
    pulumi_aws.autoscaling.Metric.GROUP_IN_SERVICE_INSTANCES,
    pulumi_aws.autoscaling.Metric.GROUP_MIN_SIZE,
    pulumi_aws.autoscaling.Metric.GROUP_MAX_SIZE,
    pulumi_aws.autoscaling.Metric.GROUP_TOTAL_INSTANCES,
)
_predefined_metric = (
    pulumi_aws.autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs
)


@dataclass(frozen=True, kw_only=True)
class FleetArgs:
    config: FleetConfig
    tags: dict[str, str]  # explicit: ASGs and launched instances do not get provider default tags
    machine_image: str  # as configured: an AMI id or an SSM parameter path
    image_id: pulumi.Input[str]  # resolved (perfenv.infra.delivery)
    user_data: pulumi.Input[str]  # base64, rendered (perfenv.infra.delivery)
    instance_profile_arn: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    target_group_arn: pulumi.Input[str]
    request_count_label: pulumi.Input[str]  # "<alb arn suffix>/<target group arn suffix>"


class Fleet(pulumi.ComponentResource):
    asg_name: pulumi.Output[str]
    asg_arn: pulumi.Output[str]
    launch_template_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: FleetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("perfenv:infra:Fleet", name, None, opts)
        self._prefix = name
        self._child = pulumi.ResourceOptions(parent=self)
        template = self._launch_template(args)
        group = self._group(args, template)
        self._scaling_policies(args, group)
        self._schedules(args.config, group)
        self.asg_name = group.name
        self.asg_arn = group.arn
        self.launch_template_id = template.id
        self.register_outputs({"asg_name": self.asg_name, "launch_template_id": template.id})

    def _launch_template(self, args: FleetArgs) -> pulumi_aws.ec2.LaunchTemplate:
        return launch_template(
            f"{self._prefix}-lt",
            instance_type=args.config.instance_type,
            volume_size_gb=args.config.volume_size_gb,
            description=f"perfenv: the app, image {args.machine_image}",
            image_id=args.image_id,
            user_data=args.user_data,
            instance_profile_arn=args.instance_profile_arn,
            security_group_id=args.security_group_id,
            tags={**args.tags, **role_tag("app")},
            opts=self._child,
        )

    def _group(
        self, args: FleetArgs, template: pulumi_aws.ec2.LaunchTemplate
    ) -> pulumi_aws.autoscaling.Group:
        """The group behind the target group, replaced by rolling instance refresh."""
        cfg = args.config
        return pulumi_aws.autoscaling.Group(
            f"{self._prefix}-asg",
            vpc_zone_identifiers=args.subnet_ids,
            min_size=cfg.min,
            max_size=cfg.max,
            desired_capacity=cfg.desired,
            health_check_type="ELB",
            # Group metrics in CloudWatch (GroupInServiceInstances for every report's server side).
            enabled_metrics=list(GROUP_METRICS),
            metrics_granularity="1Minute",
            health_check_grace_period=HEALTH_CHECK_GRACE_S,
            target_group_arns=[args.target_group_arn],
            launch_template=pulumi_aws.autoscaling.GroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            instance_refresh=pulumi_aws.autoscaling.GroupInstanceRefreshArgs(
                strategy="Rolling",
                preferences=pulumi_aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
                    min_healthy_percentage=MIN_HEALTHY_PERCENT
                ),
            ),
            tags=[
                pulumi_aws.autoscaling.GroupTagArgs(key=k, value=v, propagate_at_launch=True)
                for k, v in sorted(args.tags.items())
            ],
            opts=self._child,
        )

    def _scaling_policies(self, args: FleetArgs, group: pulumi_aws.autoscaling.Group) -> None:
        """Target tracking on CPU and on requests per target."""
        scaling = args.config.scaling
        for suffix, target, metric in (
            (
                "cpu",
                scaling.cpu_percent,
                _predefined_metric(predefined_metric_type="ASGAverageCPUUtilization"),
            ),
            (
                "requests",
                float(scaling.requests_per_target),
                _predefined_metric(
                    predefined_metric_type="ALBRequestCountPerTarget",
                    resource_label=args.request_count_label,
                ),
            ),
        ):
            pulumi_aws.autoscaling.Policy(
                f"{self._prefix}-{suffix}",
                autoscaling_group_name=group.name,
                policy_type="TargetTrackingScaling",
                target_tracking_configuration=pulumi_aws.autoscaling.PolicyTargetTrackingConfigurationArgs(
                    target_value=target, predefined_metric_specification=metric
                ),
                opts=self._child,
            )

    def _schedules(self, cfg: FleetConfig, group: pulumi_aws.autoscaling.Group) -> None:
        for schedule in cfg.schedules:
            pulumi_aws.autoscaling.Schedule(
                f"{self._prefix}-{schedule.name}",
                autoscaling_group_name=group.name,
                scheduled_action_name=schedule.name,  # scoped to the group: cannot collide
                recurrence=schedule.recurrence,
                time_zone="Etc/UTC",
                min_size=schedule.min,
                max_size=schedule.max,
                desired_capacity=schedule.desired,
                opts=self._child,
            )
