"""VPC endpoints: the S3 gateway endpoint and the interface endpoints of an isolated VPC."""

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
    register,
    with_outputs,
)
from perfenv.cli.targets.local.realize.ec2 import ec2_arn, tag_resource


def _prefix_list(ctx: Ctx, service: str) -> str | None:
    """The AWS-managed prefix list of a gateway service (`com.amazonaws.<region>.s3`)."""
    lists = ctx.client("ec2").describe_prefix_lists(
        Filters=[{"Name": "prefix-list-name", "Values": [service]}]
    )["PrefixLists"]
    return lists[0]["PrefixListId"] if lists else None


def create_vpc_endpoint(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    kind = inputs.get("vpcEndpointType") or "Gateway"
    service = str(inputs["serviceName"])
    endpoint = ctx.client("ec2").create_vpc_endpoint(
        **compact(
            VpcId=inputs["vpcId"],
            ServiceName=service,
            VpcEndpointType=kind,
            RouteTableIds=as_list(inputs.get("routeTableIds")),
            SubnetIds=as_list(inputs.get("subnetIds")),
            SecurityGroupIds=as_list(inputs.get("securityGroupIds")),
            PrivateDnsEnabled=inputs.get("privateDnsEnabled") if kind == "Interface" else None,
            PolicyDocument=inputs.get("policy"),
        )
    )["VpcEndpoint"]
    endpoint_id = endpoint["VpcEndpointId"]
    tag_resource(ctx, endpoint_id)
    return endpoint_id, with_outputs(
        inputs,
        ctx,
        id=endpoint_id,
        arn=ec2_arn(ctx, "vpc-endpoint", endpoint_id),
        state=endpoint.get("State", "available"),
        prefixListId=_prefix_list(ctx, service) if kind == "Gateway" else None,
        dnsEntries=[
            {"dnsName": e.get("DnsName"), "hostedZoneId": e.get("HostedZoneId")}
            for e in endpoint.get("DnsEntries") or []
        ],
    )


def delete_vpc_endpoint(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(lambda: ctx.client("ec2").delete_vpc_endpoints(VpcEndpointIds=[id_]))


register(create_vpc_endpoint, delete_vpc_endpoint, "aws:ec2/vpcEndpoint:VpcEndpoint")
