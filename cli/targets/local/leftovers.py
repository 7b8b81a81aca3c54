"""What the emulator still holds for a stack: the tagging API, then what it cannot see.

The tagging API misses autoscaling groups, launch templates, network ACLs and Elastic IPs
(as on AWS), and dashboards carry no tags: per-type describe calls cover those. Terminated
instances stay listed for a while on AWS too, so they are not leftovers.
"""

from __future__ import annotations

import re
from typing import Any

from perfenv.cli.targets.local.realize import Clients
from perfenv.cli.targets.local.state import ResourceRecord
from perfenv.infra.tags import tag_key

STACK_TAG = tag_key("stack")


def in_emulator(
    endpoint: str, stack: str, regions: set[str], records: list[ResourceRecord]
) -> list[str]:
    clients = Clients(endpoint)
    found: list[str] = []
    for region in sorted(regions):
        found += _tagged(clients, region, stack)
        found += _untagged_types(clients, region, stack)
    found += _dashboards(clients, records)
    return sorted(set(found))


def _tagged(clients: Clients, region: str, stack: str) -> list[str]:
    tagging = clients("resourcegroupstaggingapi", region)
    arns: list[str] = []
    token = ""
    while True:
        page = tagging.get_resources(
            TagFilters=[{"Key": STACK_TAG, "Values": [stack]}], PaginationToken=token
        )
        arns += [item["ResourceARN"] for item in page.get("ResourceTagMappingList", [])]
        token = page.get("PaginationToken") or ""
        if not token:
            break
    gone = _terminated_instances(clients, region, arns) | _deleted_nat_gateways(
        clients, region, arns
    )
    return [f"{_kind(arn)} {arn}" for arn in arns if arn not in gone]


def _kind(arn: str) -> str:
    """`arn:aws:ec2:r:a:vpc/vpc-1` -> `ec2:vpc`; `arn:aws:sns:r:a:topic` -> `sns`."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return "arn"
    head = re.split("[/:]", parts[5], maxsplit=1)
    return f"{parts[2]}:{head[0]}" if len(head) > 1 else parts[2]


def _terminated_instances(clients: Clients, region: str, arns: list[str]) -> set[str]:
    by_id = {arn.rsplit("/", 1)[1]: arn for arn in arns if ":instance/" in arn}
    if not by_id:
        return set()
    reservations = clients("ec2", region).describe_instances(InstanceIds=list(by_id))
    return {
        by_id[instance["InstanceId"]]
        for reservation in reservations["Reservations"]
        for instance in reservation["Instances"]
        if instance["State"]["Name"] in ("terminated", "shutting-down")
    }


def _deleted_nat_gateways(clients: Clients, region: str, arns: list[str]) -> set[str]:
    """Deleted NAT gateways stay visible for a while (as on AWS), like terminated instances."""
    by_id = {arn.rsplit("/", 1)[1]: arn for arn in arns if ":natgateway/" in arn}
    if not by_id:
        return set()
    gateways = clients("ec2", region).describe_nat_gateways(NatGatewayIds=list(by_id))
    return {
        by_id[g["NatGatewayId"]]
        for g in gateways["NatGateways"]
        if g["State"] in ("deleted", "deleting")
    }


def _untagged_types(clients: Clients, region: str, stack: str) -> list[str]:
    ec2 = clients("ec2", region)
    by_tag = [{"Name": f"tag:{STACK_TAG}", "Values": [stack]}]
    found = [
        f"autoscaling:group {tag['ResourceId']}"
        for tag in _asg_tags(clients("autoscaling", region), stack)
    ]
    found += [
        f"ec2:launch-template {t['LaunchTemplateId']}"
        for t in ec2.describe_launch_templates(Filters=by_tag)["LaunchTemplates"]
    ]
    found += [
        f"ec2:network-acl {a['NetworkAclId']}"
        for a in ec2.describe_network_acls(Filters=by_tag)["NetworkAcls"]
    ]
    found += [
        f"ec2:elastic-ip {a.get('AllocationId', a.get('PublicIp'))}"
        for a in ec2.describe_addresses(Filters=by_tag)["Addresses"]
    ]
    return found


def _asg_tags(autoscaling: Any, stack: str) -> list[dict[str, Any]]:
    filters = [{"Name": "key", "Values": [STACK_TAG]}, {"Name": "value", "Values": [stack]}]
    tags: list[dict[str, Any]] = []
    for page in autoscaling.get_paginator("describe_tags").paginate(Filters=filters):
        tags += page.get("Tags", [])
    return tags


def _dashboards(clients: Clients, records: list[ResourceRecord]) -> list[str]:
    """Dashboards carry no tags: look for the ones the stack recorded."""
    found = []
    for record in records:
        if record.type != "aws:cloudwatch/dashboard:Dashboard":
            continue
        cloudwatch = clients("cloudwatch", record.region or "us-east-1")
        entries = cloudwatch.list_dashboards(DashboardNamePrefix=record.id)["DashboardEntries"]
        if any(entry["DashboardName"] == record.id for entry in entries):
            found.append(f"cloudwatch:dashboard {record.id}")
    return found
