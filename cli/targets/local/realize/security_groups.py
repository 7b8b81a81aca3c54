"""Security groups and their rules (inline, `ec2.SecurityGroupRule`, `vpc.*Rule`)."""

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
    random_hex,
    register,
    to_int,
    with_outputs,
)
from perfenv.cli.targets.local.realize.ec2 import ec2_arn, protocol_number, tag_resource


def _permission(rule: Mapping[str, Any], group_id: str | None = None) -> dict[str, Any]:
    """A Terraform-style rule (protocol, fromPort, cidrBlocks, ...) as an EC2 IpPermission."""
    protocol = protocol_number(rule.get("protocol", rule.get("ipProtocol")))
    desc = compact(Description=rule.get("description"))
    cidrs = as_list(rule.get("cidrBlocks")) + as_list(rule.get("cidrIpv4"))
    ipv6 = as_list(rule.get("ipv6CidrBlocks")) + as_list(rule.get("cidrIpv6"))
    groups = as_list(rule.get("securityGroups")) + as_list(rule.get("sourceSecurityGroupId"))
    groups += as_list(rule.get("referencedSecurityGroupId"))
    if rule.get("self") and group_id:
        groups.append(group_id)
    prefixes = as_list(rule.get("prefixListIds")) + as_list(rule.get("prefixListId"))
    permission = compact(
        IpProtocol=protocol,
        IpRanges=[{"CidrIp": c, **desc} for c in cidrs],
        Ipv6Ranges=[{"CidrIpv6": c, **desc} for c in ipv6],
        UserIdGroupPairs=[{"GroupId": g, **desc} for g in groups],
        PrefixListIds=[{"PrefixListId": p, **desc} for p in prefixes],
    )
    if protocol != "-1":
        permission["FromPort"] = to_int(rule.get("fromPort"), 0)
        permission["ToPort"] = to_int(rule.get("toPort"), 0)
    return permission


_ALLOW_ALL_EGRESS = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}


def create_security_group(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    ec2 = ctx.client("ec2")
    name = physical_name(ctx, inputs, limit=255)
    group_id = ec2.create_security_group(
        **compact(
            GroupName=name,
            Description=inputs.get("description") or "Managed by Pulumi",
            VpcId=inputs.get("vpcId"),
        )
    )["GroupId"]
    # Like the Terraform provider, drop AWS's default allow-all egress: only declared rules stay.
    if inputs.get("vpcId"):
        ignore_gone(
            lambda: ec2.revoke_security_group_egress(
                GroupId=group_id, IpPermissions=[_ALLOW_ALL_EGRESS]
            ),
            "InvalidPermission.NotFound",
        )
    ingress = [_permission(r, group_id) for r in as_list(inputs.get("ingress"))]
    egress = [_permission(r, group_id) for r in as_list(inputs.get("egress"))]
    if ingress:
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=ingress)
    if egress:
        ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=egress)
    tag_resource(ctx, group_id)
    return group_id, with_outputs(
        inputs,
        ctx,
        id=group_id,
        name=name,
        arn=ec2_arn(ctx, "security-group", group_id),
        ownerId=ACCOUNT,
    )


def delete_security_group(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(lambda: ctx.client("ec2").delete_security_group(GroupId=id_))


def _authorize(ctx: Ctx, direction: str, group_id: str, permission: dict[str, Any]) -> str:
    ec2 = ctx.client("ec2")
    call = (
        ec2.authorize_security_group_ingress
        if direction == "ingress"
        else ec2.authorize_security_group_egress
    )
    response = call(GroupId=group_id, IpPermissions=[permission])
    rules = response.get("SecurityGroupRules") or []
    if rules and ctx.tags:
        tag_resource(ctx, rules[0]["SecurityGroupRuleId"])
    return str(rules[0]["SecurityGroupRuleId"]) if rules else f"sgrule-{random_hex(10)}"


def _revoke(ctx: Ctx, direction: str, group_id: str, permission: dict[str, Any]) -> None:
    ec2 = ctx.client("ec2")
    call = (
        ec2.revoke_security_group_ingress
        if direction == "ingress"
        else ec2.revoke_security_group_egress
    )
    ignore_gone(
        lambda: call(GroupId=group_id, IpPermissions=[permission]), "InvalidPermission.NotFound"
    )


def create_security_group_rule(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    group_id = inputs["securityGroupId"]
    id_ = _authorize(ctx, str(inputs["type"]), group_id, _permission(inputs, group_id))
    return id_, with_outputs(inputs, ctx, id=id_, securityGroupRuleId=id_)


def delete_security_group_rule(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    group_id = state["securityGroupId"]
    _revoke(ctx, str(state["type"]), group_id, _permission(state, group_id))


def _vpc_rule(direction: str) -> tuple[Any, Any]:
    def create(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
        group_id = inputs["securityGroupId"]
        id_ = _authorize(ctx, direction, group_id, _permission(inputs))
        return id_, with_outputs(
            inputs,
            ctx,
            id=id_,
            securityGroupRuleId=id_,
            arn=ec2_arn(ctx, "security-group-rule", id_),
        )

    def delete(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
        _revoke(ctx, direction, state["securityGroupId"], _permission(state))

    return create, delete


sg_ingress_create, sg_ingress_delete = _vpc_rule("ingress")
sg_egress_create, sg_egress_delete = _vpc_rule("egress")


register(create_security_group, delete_security_group, "aws:ec2/securityGroup:SecurityGroup")
register(
    create_security_group_rule,
    delete_security_group_rule,
    "aws:ec2/securityGroupRule:SecurityGroupRule",
    taggable=False,
)
register(
    sg_ingress_create,
    sg_ingress_delete,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
)
register(
    sg_egress_create, sg_egress_delete, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
)
