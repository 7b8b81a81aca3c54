"""The launch template every group of instances uses (the app's fleet, the load generator).

IMDSv2 only, an encrypted root volume, no public IP, the least-privilege instance profile, and
the stack's tags on what it launches (provider default tags do not reach instances).
"""

from __future__ import annotations

import pulumi
import pulumi_aws.ec2

ROOT_DEVICE = "/dev/xvda"


def launch_template(
    name: str,
    *,
    description: str,
    instance_type: str,
    volume_size_gb: int,
    image_id: pulumi.Input[str],
    user_data: pulumi.Input[str],
    instance_profile_arn: pulumi.Input[str],
    security_group_id: pulumi.Input[str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> pulumi_aws.ec2.LaunchTemplate:
    return pulumi_aws.ec2.LaunchTemplate(
        name,
        description=description,
        image_id=image_id,
        instance_type=instance_type,
        user_data=user_data,
        update_default_version=True,
        iam_instance_profile=pulumi_aws.ec2.LaunchTemplateIamInstanceProfileArgs(
            arn=instance_profile_arn
        ),
        metadata_options=pulumi_aws.ec2.LaunchTemplateMetadataOptionsArgs(
            http_endpoint="enabled",
            http_tokens="required",  # IMDSv2 only
            http_put_response_hop_limit=1,
        ),
        block_device_mappings=[
            pulumi_aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name=ROOT_DEVICE,
                ebs=pulumi_aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    encrypted="true",
                    volume_size=volume_size_gb,
                    volume_type="gp3",
                    delete_on_termination="true",
                ),
            )
        ],
        network_interfaces=[
            pulumi_aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                associate_public_ip_address="false",
                delete_on_termination="true",
                security_groups=[security_group_id],
            )
        ],
        monitoring=pulumi_aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
        tag_specifications=[
            pulumi_aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=tags)
            for kind in ("instance", "volume", "network-interface")
        ],
        opts=opts,
    )
