"""What AWS still holds for a stack, found by its `perfenv:stack` tag, and the sweep that
deletes it: dependents first, retried with backoff. What stays is a leftover for the caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from perfenv.cli.errors import InfraError
from perfenv.cli.targets.aws.clients import ClientFactory
from perfenv.cli.targets.aws.retries import backoff_s
from perfenv.cli.targets.base import Progress

STACK_TAG = "perfenv:stack"


def tagged(client: ClientFactory, stack: str, region: str) -> Iterator[tuple[str, str]]:
    """What AWS still holds for `stack`: the tagging API (less terminated instances) plus
    per-type calls for what it misses (ASGs, launch templates, NACLs, EIPs, dashboards)."""
    tag_filter = [{"Key": STACK_TAG, "Values": [stack]}]
    ec2 = client("ec2", region)
    terminated = set()
    pages = ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": f"tag:{STACK_TAG}", "Values": [stack]}]
    )
    for page in pages:
        for reservation in page.get("Reservations", []):
            for inst in reservation.get("Instances", []):
                if inst.get("State", {}).get("Name") in ("terminated", "shutting-down"):
                    terminated.add(inst["InstanceId"])
    tagging = client("resourcegroupstaggingapi", region)
    for page in tagging.get_paginator("get_resources").paginate(TagFilters=tag_filter):
        for item in page.get("ResourceTagMappingList", []):
            arn = item["ResourceARN"]
            if arn.rsplit("/", 1)[-1] not in terminated:
                yield ("arn", arn)
    asg = client("autoscaling", region)
    for page in asg.get_paginator("describe_tags").paginate(
        Filters=[{"Name": "key", "Values": [STACK_TAG]}, {"Name": "value", "Values": [stack]}]
    ):
        for tag in page.get("Tags", []):
            yield ("autoscaling-group", tag["ResourceId"])
    ec2_filter = [{"Name": f"tag:{STACK_TAG}", "Values": [stack]}]
    for lt in ec2.describe_launch_templates(Filters=ec2_filter).get("LaunchTemplates", []):
        yield ("launch-template", lt["LaunchTemplateId"])
    for acl in ec2.describe_network_acls(Filters=ec2_filter).get("NetworkAcls", []):
        if not acl.get("IsDefault"):
            yield ("network-acl", acl["NetworkAclId"])
    for eip in ec2.describe_addresses(Filters=ec2_filter).get("Addresses", []):
        yield ("elastic-ip", eip.get("AllocationId", eip.get("PublicIp", "")))
    cloudwatch = client("cloudwatch", region)
    for page in cloudwatch.get_paginator("list_dashboards").paginate():
        for board in page.get("DashboardEntries", []):
            tags = cloudwatch.list_tags_for_resource(ResourceARN=board["DashboardArn"])
            if any(t["Key"] == STACK_TAG and t["Value"] == stack for t in tags["Tags"]):
                yield ("dashboard", board["DashboardName"])


def sweep(
    client: ClientFactory,
    stack: str,
    region: str,
    progress: Progress,
    *,
    attempts: int,
    sleep: Callable[[float], None],
    base_delay_s: float,
) -> None:
    """Delete what still carries `perfenv:stack=<stack>` (after forgotten pending creates),
    dependents first; retried with backoff. Leftovers afterwards are for the caller."""
    for attempt in range(1, attempts + 1):
        found = sorted(tagged(client, stack, region), key=_sweep_order)
        if not found:
            return
        progress(f"{stack}: sweeping {len(found)} tagged resources (attempt {attempt})")
        for kind, ident in found:
            try:
                _delete(client, region, kind, ident)
            except Exception as exc:  # noqa: BLE001 - retried; what stays is a leftover
                progress(f"  {kind} {ident}: {type(exc).__name__}")
        if attempt < attempts:
            sleep(backoff_s(base_delay_s, attempt))


# Dependents before what they depend on.
_ORDER = [
    "autoscaling-group",
    ":instance/",
    ":loadbalancer/",
    ":listener/",
    ":targetgroup/",
    ":natgateway/",
    "elastic-ip",
    ":elastic-ip/",
    "launch-template",
    ":launch-template/",
    ":internet-gateway/",
    ":route-table/",
    ":subnet/",
    ":security-group",
    "network-acl",
    ":network-acl/",
    ":vpc/",
]


def _sweep_order(item: tuple[str, str]) -> int:
    kind, ident = item
    key = ident if kind == "arn" else kind
    return next((i for i, mark in enumerate(_ORDER) if mark in key), len(_ORDER))


def _delete(client: ClientFactory, region: str, kind: str, ident: str) -> None:
    """One per-type delete for a swept resource."""
    if kind == "autoscaling-group":
        client("autoscaling", region).delete_auto_scaling_group(
            AutoScalingGroupName=ident, ForceDelete=True
        )
    elif kind == "launch-template":
        client("ec2", region).delete_launch_template(LaunchTemplateId=ident)
    elif kind == "network-acl":
        client("ec2", region).delete_network_acl(NetworkAclId=ident)
    elif kind == "elastic-ip":
        client("ec2", region).release_address(AllocationId=ident)
    elif kind == "dashboard":
        client("cloudwatch", region).delete_dashboards(DashboardNames=[ident])
    else:
        _delete_arn(client, region, ident)


def _delete_arn(client: ClientFactory, region: str, arn: str) -> None:
    service, resource = arn.split(":", 5)[2], arn.split(":", 5)[5]
    rtype, _, rid = resource.partition("/") if "/" in resource else resource.partition(":")
    ec2_deletes: dict[str, Callable[[Any], Any]] = {
        "instance": lambda c: c.terminate_instances(InstanceIds=[rid]),
        "vpc": lambda c: c.delete_vpc(VpcId=rid),
        "subnet": lambda c: c.delete_subnet(SubnetId=rid),
        "security-group": lambda c: c.delete_security_group(GroupId=rid),
        "route-table": lambda c: c.delete_route_table(RouteTableId=rid),
        "natgateway": lambda c: c.delete_nat_gateway(NatGatewayId=rid),
        "network-acl": lambda c: c.delete_network_acl(NetworkAclId=rid),
        "launch-template": lambda c: c.delete_launch_template(LaunchTemplateId=rid),
        "elastic-ip": lambda c: c.release_address(AllocationId=rid),
        "internet-gateway": lambda c: _delete_igw(c, rid),
        "flow-log": lambda c: c.delete_flow_logs(FlowLogIds=[rid]),
    }
    if service == "ec2" and rtype in ec2_deletes:
        ec2_deletes[rtype](client("ec2", region))
    elif service == "elasticloadbalancing":
        elb = client("elbv2", region)
        if rtype == "targetgroup":
            elb.delete_target_group(TargetGroupArn=arn)
        elif rtype == "listener":
            elb.delete_listener(ListenerArn=arn)
        else:
            elb.delete_load_balancer(LoadBalancerArn=arn)
    elif service == "cloudwatch" and rtype == "alarm":
        client("cloudwatch", region).delete_alarms(AlarmNames=[resource.split(":", 1)[1]])
    elif service == "sns":
        client("sns", region).delete_topic(TopicArn=arn)
    elif service == "logs":
        group = resource.split(":", 1)[1].removesuffix(":*")
        client("logs", region).delete_log_group(logGroupName=group)
    else:
        raise InfraError(f"{arn}: no sweep for this type; delete it by hand")


def _delete_igw(ec2: Any, igw: str) -> None:
    found = ec2.describe_internet_gateways(InternetGatewayIds=[igw])["InternetGateways"]
    for attachment in found[0].get("Attachments", []) if found else []:
        ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=attachment["VpcId"])
    ec2.delete_internet_gateway(InternetGatewayId=igw)
