"""VPCs, subnets, internet and NAT gateways, Elastic IPs and flow logs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from perfenv.cli.targets.local.realize.base import (
    ACCOUNT,
    Ctx,
    Inputs,
    Outputs,
    compact,
    ignore_gone,
    register,
    to_int,
    with_outputs,
)
from perfenv.cli.targets.local.realize.ec2 import ec2_arn, tag_resource


def create_vpc(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    ec2 = ctx.client("ec2")
    vpc = ec2.create_vpc(
        **compact(CidrBlock=inputs.get("cidrBlock"), InstanceTenancy=inputs.get("instanceTenancy"))
    )["Vpc"]
    vpc_id = vpc["VpcId"]
    for key, attr in (
        ("enableDnsHostnames", "EnableDnsHostnames"),
        ("enableDnsSupport", "EnableDnsSupport"),
    ):
        if key in inputs and inputs[key] is not None:
            ec2.modify_vpc_attribute(VpcId=vpc_id, **{attr: {"Value": bool(inputs[key])}})
    tag_resource(ctx, vpc_id)
    vpc_filter = [{"Name": "vpc-id", "Values": [vpc_id]}]
    main_rt = ec2.describe_route_tables(
        Filters=[*vpc_filter, {"Name": "association.main", "Values": ["true"]}]
    )["RouteTables"]
    acls = ec2.describe_network_acls(Filters=[*vpc_filter, {"Name": "default", "Values": ["true"]}])
    groups = ec2.describe_security_groups(
        Filters=[*vpc_filter, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    main_rt_id = main_rt[0]["RouteTableId"] if main_rt else None
    return vpc_id, with_outputs(
        inputs,
        ctx,
        id=vpc_id,
        arn=ec2_arn(ctx, "vpc", vpc_id),
        cidrBlock=vpc["CidrBlock"],
        ownerId=vpc.get("OwnerId", ACCOUNT),
        mainRouteTableId=main_rt_id,
        defaultRouteTableId=main_rt_id,
        defaultNetworkAclId=acls["NetworkAcls"][0]["NetworkAclId"] if acls["NetworkAcls"] else None,
        defaultSecurityGroupId=groups[0]["GroupId"] if groups else None,
    )


def delete_vpc(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(lambda: ctx.client("ec2").delete_vpc(VpcId=id_))


def create_subnet(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    ec2 = ctx.client("ec2")
    subnet = ec2.create_subnet(
        **compact(
            VpcId=inputs["vpcId"],
            CidrBlock=inputs.get("cidrBlock"),
            AvailabilityZone=inputs.get("availabilityZone"),
            AvailabilityZoneId=inputs.get("availabilityZoneId"),
        )
    )["Subnet"]
    subnet_id = subnet["SubnetId"]
    if inputs.get("mapPublicIpOnLaunch"):
        ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True})
    tag_resource(ctx, subnet_id)
    return subnet_id, with_outputs(
        inputs,
        ctx,
        id=subnet_id,
        arn=ec2_arn(ctx, "subnet", subnet_id),
        availabilityZone=subnet["AvailabilityZone"],
        availabilityZoneId=subnet.get("AvailabilityZoneId"),
        ownerId=ACCOUNT,
    )


def delete_subnet(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(lambda: ctx.client("ec2").delete_subnet(SubnetId=id_))


def create_internet_gateway(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    ec2 = ctx.client("ec2")
    igw_id = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    if inputs.get("vpcId"):
        ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=inputs["vpcId"])
    tag_resource(ctx, igw_id)
    return igw_id, with_outputs(
        inputs, ctx, id=igw_id, arn=ec2_arn(ctx, "internet-gateway", igw_id), ownerId=ACCOUNT
    )


def delete_internet_gateway(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ec2 = ctx.client("ec2")
    if state.get("vpcId"):
        ignore_gone(
            lambda: ec2.detach_internet_gateway(InternetGatewayId=id_, VpcId=state["vpcId"]),
            "Gateway.NotAttached",
        )
    ignore_gone(lambda: ec2.delete_internet_gateway(InternetGatewayId=id_))


def create_igw_attachment(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    igw, vpc = inputs["internetGatewayId"], inputs["vpcId"]
    ctx.client("ec2").attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    id_ = f"{igw}:{vpc}"
    return id_, with_outputs(inputs, ctx, id=id_)


def delete_igw_attachment(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(
        lambda: ctx.client("ec2").detach_internet_gateway(
            InternetGatewayId=state["internetGatewayId"], VpcId=state["vpcId"]
        ),
        "Gateway.NotAttached",
    )


def create_eip(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    ec2 = ctx.client("ec2")
    address = ec2.allocate_address(Domain=inputs.get("domain") or "vpc")
    allocation_id = address["AllocationId"]
    tag_resource(ctx, allocation_id)
    return allocation_id, with_outputs(
        inputs,
        ctx,
        id=allocation_id,
        allocationId=allocation_id,
        publicIp=address["PublicIp"],
        domain=address.get("Domain", "vpc"),
        arn=ec2_arn(ctx, "elastic-ip", allocation_id),
    )


def delete_eip(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(lambda: ctx.client("ec2").release_address(AllocationId=id_))


def create_nat_gateway(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    ec2 = ctx.client("ec2")
    nat = ec2.create_nat_gateway(
        **compact(
            SubnetId=inputs["subnetId"],
            AllocationId=inputs.get("allocationId"),
            ConnectivityType=inputs.get("connectivityType"),
        )
    )["NatGateway"]
    nat_id = nat["NatGatewayId"]
    tag_resource(ctx, nat_id)
    addresses = nat.get("NatGatewayAddresses") or [{}]
    return nat_id, with_outputs(
        inputs,
        ctx,
        id=nat_id,
        networkInterfaceId=addresses[0].get("NetworkInterfaceId"),
        publicIp=addresses[0].get("PublicIp"),
        privateIp=addresses[0].get("PrivateIp"),
    )


def delete_nat_gateway(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ec2 = ctx.client("ec2")
    ignore_gone(lambda: ec2.delete_nat_gateway(NatGatewayId=id_))
    # A deleted gateway stays listed (state "deleted") with its tags: drop them, so the tag
    # sweep and the leftovers check see only what still exists.
    keys = [{"Key": key} for key in (state.get("tagsAll") or {})]
    if keys:
        ignore_gone(lambda: ec2.delete_tags(Resources=[id_], Tags=keys))
    if state.get("networkInterfaceId"):  # AWS removes the gateway's ENI with it
        ignore_gone(
            lambda: ec2.delete_network_interface(NetworkInterfaceId=state["networkInterfaceId"])
        )


def create_flow_log(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    resource_type, resource_id = next(
        (kind, inputs[key])
        for key, kind in (
            ("vpcId", "VPC"),
            ("subnetId", "Subnet"),
            ("eniId", "NetworkInterface"),
            ("transitGatewayId", "TransitGateway"),
        )
        if inputs.get(key)
    )
    destination_type = inputs.get("logDestinationType") or "cloud-watch-logs"
    response = ctx.client("ec2").create_flow_logs(
        **compact(
            ResourceIds=[resource_id],
            ResourceType=resource_type,
            TrafficType=inputs.get("trafficType") or "ALL",
            LogDestinationType=destination_type,
            LogDestination=inputs.get("logDestination"),
            DeliverLogsPermissionArn=inputs.get("iamRoleArn"),
            MaxAggregationInterval=to_int(inputs.get("maxAggregationInterval")),
        )
    )
    if response.get("Unsuccessful"):
        raise_from = response["Unsuccessful"][0]["Error"]
        raise RuntimeError(f"{raise_from.get('Code')}: {raise_from.get('Message')}")
    flow_id = response["FlowLogIds"][0]
    tag_resource(ctx, flow_id)
    return flow_id, with_outputs(inputs, ctx, id=flow_id, arn=ec2_arn(ctx, "vpc-flow-log", flow_id))


def delete_flow_log(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(lambda: ctx.client("ec2").delete_flow_logs(FlowLogIds=[id_]))


register(create_vpc, delete_vpc, "aws:ec2/vpc:Vpc")
register(create_subnet, delete_subnet, "aws:ec2/subnet:Subnet")
register(
    create_internet_gateway, delete_internet_gateway, "aws:ec2/internetGateway:InternetGateway"
)
register(
    create_igw_attachment,
    delete_igw_attachment,
    "aws:ec2/internetGatewayAttachment:InternetGatewayAttachment",
    taggable=False,
)
register(create_eip, delete_eip, "aws:ec2/eip:Eip")
register(create_nat_gateway, delete_nat_gateway, "aws:ec2/natGateway:NatGateway")
register(create_flow_log, delete_flow_log, "aws:ec2/flowLog:FlowLog")
