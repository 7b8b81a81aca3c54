"""Route tables, routes and their subnet associations."""

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
    with_outputs,
)
from perfenv.cli.targets.local.realize.ec2 import ec2_arn, tag_resource


def _route_target(route: Mapping[str, Any]) -> dict[str, Any]:
    return compact(
        DestinationCidrBlock=route.get("destinationCidrBlock") or route.get("cidrBlock"),
        DestinationIpv6CidrBlock=route.get("destinationIpv6CidrBlock")
        or route.get("ipv6CidrBlock"),
        GatewayId=route.get("gatewayId"),
        NatGatewayId=route.get("natGatewayId"),
        NetworkInterfaceId=route.get("networkInterfaceId"),
        TransitGatewayId=route.get("transitGatewayId"),
        VpcPeeringConnectionId=route.get("vpcPeeringConnectionId"),
        VpcEndpointId=route.get("vpcEndpointId"),
    )


def create_route_table(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    ec2 = ctx.client("ec2")
    rtb_id = ec2.create_route_table(VpcId=inputs["vpcId"])["RouteTable"]["RouteTableId"]
    for route in as_list(inputs.get("routes")):
        ec2.create_route(RouteTableId=rtb_id, **_route_target(route))
    tag_resource(ctx, rtb_id)
    return rtb_id, with_outputs(
        inputs, ctx, id=rtb_id, arn=ec2_arn(ctx, "route-table", rtb_id), ownerId=ACCOUNT
    )


def delete_route_table(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(lambda: ctx.client("ec2").delete_route_table(RouteTableId=id_))


def create_route(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    target = _route_target(inputs)
    ctx.client("ec2").create_route(RouteTableId=inputs["routeTableId"], **target)
    destination = target.get("DestinationCidrBlock") or target.get("DestinationIpv6CidrBlock")
    id_ = f"r-{inputs['routeTableId']}-{destination}"
    return id_, with_outputs(inputs, ctx, id=id_, state="active", origin="CreateRoute")


def delete_route(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    target = _route_target(state)
    destination = {k: v for k, v in target.items() if k.startswith("Destination")}
    ignore_gone(
        lambda: ctx.client("ec2").delete_route(RouteTableId=state["routeTableId"], **destination)
    )


def create_route_table_association(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    association = ctx.client("ec2").associate_route_table(
        **compact(
            RouteTableId=inputs["routeTableId"],
            SubnetId=inputs.get("subnetId"),
            GatewayId=inputs.get("gatewayId"),
        )
    )
    id_ = association["AssociationId"]
    return id_, with_outputs(inputs, ctx, id=id_)


def delete_route_table_association(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(
        lambda: ctx.client("ec2").disassociate_route_table(AssociationId=id_),
        "InvalidAssociationID.NotFound",
    )


register(create_route_table, delete_route_table, "aws:ec2/routeTable:RouteTable")
register(create_route, delete_route, "aws:ec2/route:Route", taggable=False)
register(
    create_route_table_association,
    delete_route_table_association,
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    taggable=False,
)
