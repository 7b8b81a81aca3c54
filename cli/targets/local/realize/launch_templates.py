"""Launch templates (the fleet's instance definition)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from perfenv.cli.targets.local.realize.base import (
    Ctx,
    Inputs,
    Outputs,
    as_list,
    compact,
    ignore_gone,
    physical_name,
    register,
    tag_list,
    with_outputs,
)
from perfenv.cli.targets.local.realize.ec2 import ec2_arn, tag_resource

_TEMPLATE_KEYS = {"securityGroups": "Groups"}  # network interface: Terraform name -> EC2 name


def _pascal(value: Any) -> Any:
    """Launch template data as EC2 wants it: PascalCase keys, integral floats as int, and the
    Terraform schema's tri-state strings ("true"/"false") as booleans. Recursive."""
    if isinstance(value, Mapping):
        return {
            _TEMPLATE_KEYS.get(k, k[:1].upper() + k[1:]): _pascal(v)
            for k, v in value.items()
            if v is not None and v != ""
        }
    if isinstance(value, list):
        return [_pascal(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value in ("true", "false"):
        return value == "true"
    return value


def _template_data(inputs: Inputs) -> dict[str, Any]:
    specs = [
        {"ResourceType": spec.get("resourceType"), "Tags": tag_list(spec.get("tags") or {})}
        for spec in as_list(inputs.get("tagSpecifications"))
    ]
    network = [_pascal(n) for n in as_list(inputs.get("networkInterfaces"))]
    return compact(
        ImageId=inputs.get("imageId"),
        InstanceType=inputs.get("instanceType"),
        KeyName=inputs.get("keyName"),
        SecurityGroupIds=as_list(inputs.get("vpcSecurityGroupIds")),
        SecurityGroups=as_list(inputs.get("securityGroupNames")),
        BlockDeviceMappings=[_pascal(b) for b in as_list(inputs.get("blockDeviceMappings"))],
        IamInstanceProfile=_pascal(inputs.get("iamInstanceProfile")),
        MetadataOptions=_pascal(inputs.get("metadataOptions")),
        Monitoring=_pascal(inputs.get("monitoring")),
        UserData=inputs.get("userData") or None,
        NetworkInterfaces=network,
        TagSpecifications=specs,
        EbsOptimized=inputs.get("ebsOptimized"),
    )


def create_launch_template(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    name = physical_name(ctx, inputs, limit=128)
    template = ctx.client("ec2").create_launch_template(
        LaunchTemplateName=name,
        LaunchTemplateData=_template_data(inputs),
        **compact(VersionDescription=inputs.get("description")),
    )["LaunchTemplate"]
    template_id = template["LaunchTemplateId"]
    tag_resource(ctx, template_id)
    return template_id, with_outputs(
        inputs,
        ctx,
        id=template_id,
        name=name,
        arn=ec2_arn(ctx, "launch-template", template_id),
        latestVersion=int(template.get("LatestVersionNumber", 1)),
        defaultVersion=int(template.get("DefaultVersionNumber", 1)),
    )


def delete_launch_template(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(
        lambda: ctx.client("ec2").delete_launch_template(LaunchTemplateId=id_),
        "InvalidLaunchTemplateId.NotFound",
    )


register(create_launch_template, delete_launch_template, "aws:ec2/launchTemplate:LaunchTemplate")
