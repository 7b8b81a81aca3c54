"""LoadGenerator: Locust's master and workers as groups in the environment's private subnets.

Inside the VPC, the generator reaches an internal balancer that nothing outside can. Its
instances boot the app's machine image and install perfenv's runtime artifact the same way the
app's fleet installs the app (`perfenv.infra.delivery`), but start nothing: a run starts the
master and the workers through SSM Run Command and exchanges the plan and the results through
the state store (`perfenv.cli.targets.aws.generator`). Zero workers: empty groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws.autoscaling
import pulumi_aws.ec2

from perfenv.infra.config import LoadGeneratorConfig
from perfenv.infra.config.load_generator import LOCUST_MASTER_PORT
from perfenv.infra.launch_template import launch_template
from perfenv.infra.tags import role_tag

MASTER_ROLE = "load-generator-master"
WORKER_ROLE = "load-generator-worker"
VOLUME_SIZE_GB = 8


@dataclass(frozen=True, kw_only=True)
class LoadGeneratorArgs:
    config: LoadGeneratorConfig
    tags: dict[str, str]  # explicit: groups and their instances get no provider default tags
    machine_image: str  # as configured: an AMI id or an SSM parameter path
    image_id: pulumi.Input[str]
    user_data: pulumi.Input[str]  # base64: installs the runtime, starts nothing
    instance_profile_arn: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    egress: list[pulumi_aws.ec2.SecurityGroupEgressArgs]  # the network's instance egress


class LoadGenerator(pulumi.ComponentResource):
    master_group_name: pulumi.Output[str]
    workers_group_name: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: LoadGeneratorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("perfenv:infra:LoadGenerator", name, None, opts)
        self._prefix = name
        self._child = pulumi.ResourceOptions(parent=self)
        group = self._security_group(args)
        template = launch_template(
            f"{name}-lt",
            instance_type=args.config.instance_type,
            volume_size_gb=VOLUME_SIZE_GB,
            description=f"perfenv: the load generator, image {args.machine_image}",
            image_id=args.image_id,
            user_data=args.user_data,
            instance_profile_arn=args.instance_profile_arn,
            security_group_id=group.id,
            tags={**args.tags, **role_tag("load-generator")},
            opts=self._child,
        )
        master = self._group("master", MASTER_ROLE, min(1, args.config.workers), args, template)
        workers = self._group("workers", WORKER_ROLE, args.config.workers, args, template)
        self.master_group_name = master.name
        self.workers_group_name = workers.name
        self.security_group_id = group.id
        self.register_outputs(
            {
                "master_group_name": self.master_group_name,
                "workers_group_name": self.workers_group_name,
            }
        )

    def _security_group(self, args: LoadGeneratorArgs) -> pulumi_aws.ec2.SecurityGroup:
        """Workers reach the master's port; nothing else comes in."""
        return pulumi_aws.ec2.SecurityGroup(
            f"{self._prefix}-sg",
            vpc_id=args.vpc_id,
            description="perfenv load generator: Locust's master port from its workers",
            ingress=[
                pulumi_aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=LOCUST_MASTER_PORT,
                    to_port=LOCUST_MASTER_PORT,
                    self=True,
                )
            ],
            egress=args.egress,
            tags=role_tag("load-generator"),
            opts=self._child,
        )

    def _group(
        self,
        suffix: str,
        role: str,
        size: int,
        args: LoadGeneratorArgs,
        template: pulumi_aws.ec2.LaunchTemplate,
    ) -> pulumi_aws.autoscaling.Group:
        """A fixed-size group; its instances carry their role for Run Command to target."""
        tags = {**args.tags, **role_tag(role)}
        return pulumi_aws.autoscaling.Group(
            f"{self._prefix}-{suffix}",
            vpc_zone_identifiers=args.subnet_ids,
            min_size=size,
            max_size=size,
            desired_capacity=size,
            health_check_type="EC2",
            launch_template=pulumi_aws.autoscaling.GroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            tags=[
                pulumi_aws.autoscaling.GroupTagArgs(key=k, value=v, propagate_at_launch=True)
                for k, v in sorted(tags.items())
            ],
            opts=self._child,
        )
