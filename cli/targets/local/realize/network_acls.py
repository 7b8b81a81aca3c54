"""Network ACLs, their rules and subnet associations."""

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
    register,
    to_int,
    with_outputs,
)
from perfenv.cli.targets.local.realize.ec2 import ec2_arn, protocol_number, tag_resource


def _acl_entry(acl_id: str, rule: Mapping[str, Any], egress: bool) -> dict[str, Any]:
    from_port, to_port = to_int(rule.get("fromPort")), to_int(rule.get("toPort"))
    icmp = compact(Type=to_int(rule.get("icmpType")), Code=to_int(rule.get("icmpCode")))
    return compact(
        NetworkAclId=acl_id,
        RuleNumber=to_int(rule.get("ruleNumber", rule.get("ruleNo"))),
        Protocol=protocol_number(rule.get("protocol")),
        RuleAction=str(rule.get("ruleAction") or rule.get("action") or "allow").lower(),
        Egress=egress,
        CidrBlock=rule.get("cidrBlock"),
        Ipv6CidrBlock=rule.get("ipv6CidrBlock"),
        PortRange={"From": from_port, "To": to_port} if from_port is not None else None,
        IcmpTypeCode=icmp or None,
    )


def _associate_acl(ec2: Any, acl_id: str, subnet_id: str) -> str:
    current = ec2.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}]
    )["NetworkAcls"]
    association = next(
        a["NetworkAclAssociationId"]
        for acl in current
        for a in acl.get("Associations", [])
        if a.get("SubnetId") == subnet_id
    )
    return str(
        ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=acl_id)[
            "NewAssociationId"
        ]
    )


def _default_acl(ec2: Any, vpc_id: str) -> str | None:
    acls = ec2.describe_network_acls(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "default", "Values": ["true"]}]
    )["NetworkAcls"]
    return str(acls[0]["NetworkAclId"]) if acls else None


def _release_subnets(ec2: Any, acl_id: str, vpc_id: str | None) -> None:
    """Hand the ACL's subnets back to the VPC's default ACL (AWS refuses to delete it otherwise)."""
    acls = ec2.describe_network_acls(NetworkAclIds=[acl_id])["NetworkAcls"]
    if not acls:
        return
    default = _default_acl(ec2, vpc_id or acls[0]["VpcId"])
    for association in acls[0].get("Associations", []):
        if default and default != acl_id:
            ec2.replace_network_acl_association(
                AssociationId=association["NetworkAclAssociationId"], NetworkAclId=default
            )


def create_network_acl(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    ec2 = ctx.client("ec2")
    acl_id = ec2.create_network_acl(VpcId=inputs["vpcId"])["NetworkAcl"]["NetworkAclId"]
    for key, egress in (("ingress", False), ("egress", True)):
        for rule in as_list(inputs.get(key)):
            ec2.create_network_acl_entry(**_acl_entry(acl_id, rule, egress))
    for subnet_id in as_list(inputs.get("subnetIds")):
        _associate_acl(ec2, acl_id, subnet_id)
    tag_resource(ctx, acl_id)
    return acl_id, with_outputs(
        inputs, ctx, id=acl_id, arn=ec2_arn(ctx, "network-acl", acl_id), ownerId=ACCOUNT
    )


def delete_network_acl(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    from botocore.exceptions import ClientError

    ec2 = ctx.client("ec2")
    try:
        _release_subnets(ec2, id_, state.get("vpcId"))
    except ClientError as exc:
        if "NotFound" not in str(exc):
            raise
        return
    ignore_gone(lambda: ec2.delete_network_acl(NetworkAclId=id_))


def create_network_acl_rule(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    egress = bool(inputs.get("egress"))
    ctx.client("ec2").create_network_acl_entry(**_acl_entry(inputs["networkAclId"], inputs, egress))
    id_ = (
        f"nacl-{inputs['networkAclId']}-{to_int(inputs.get('ruleNumber'))}-{'e' if egress else 'i'}"
    )
    return id_, with_outputs(inputs, ctx, id=id_)


def delete_network_acl_rule(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(
        lambda: ctx.client("ec2").delete_network_acl_entry(
            NetworkAclId=state["networkAclId"],
            RuleNumber=to_int(state.get("ruleNumber")),
            Egress=bool(state.get("egress")),
        )
    )


def create_network_acl_association(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    id_ = _associate_acl(ctx.client("ec2"), inputs["networkAclId"], inputs["subnetId"])
    return id_, with_outputs(inputs, ctx, id=id_)


def delete_network_acl_association(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ec2 = ctx.client("ec2")
    subnets = ec2.describe_subnets(Filters=[{"Name": "subnet-id", "Values": [state["subnetId"]]}])[
        "Subnets"
    ]
    default = _default_acl(ec2, subnets[0]["VpcId"]) if subnets else None
    if default and default != state["networkAclId"]:
        ignore_gone(
            lambda: ec2.replace_network_acl_association(AssociationId=id_, NetworkAclId=default)
        )


register(create_network_acl, delete_network_acl, "aws:ec2/networkAcl:NetworkAcl")
register(
    create_network_acl_rule,
    delete_network_acl_rule,
    "aws:ec2/networkAclRule:NetworkAclRule",
    taggable=False,
)
register(
    create_network_acl_association,
    delete_network_acl_association,
    "aws:ec2/networkAclAssociation:NetworkAclAssociation",
    taggable=False,
)
