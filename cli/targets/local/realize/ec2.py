"""What the EC2 handlers share: ARNs, tagging, protocol numbers, instance clean-up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from perfenv.cli.targets.local.realize.base import (
    ACCOUNT,
    Ctx,
    ignore_gone,
    tag_list,
)

_PROTOCOLS = {"all": "-1", "tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58"}


def ec2_arn(ctx: Ctx, kind: str, id_: str) -> str:
    return f"arn:aws:ec2:{ctx.region}:{ACCOUNT}:{kind}/{id_}"


def tag_resource(ctx: Ctx, id_: str) -> None:
    if ctx.tags:
        ctx.client("ec2").create_tags(Resources=[id_], Tags=tag_list(ctx.tags))


def protocol_number(value: Any) -> str:
    text = str(value if value is not None else "-1").lower()
    if text.endswith(".0"):
        text = text[:-2]
    return _PROTOCOLS.get(text, text)


def terminate_instances(ctx: Ctx, filters: list[dict[str, Any]]) -> list[str]:
    """Terminate the instances that match `filters` and delete their interfaces; their ids."""
    ec2 = ctx.client("ec2")
    reservations = ec2.describe_instances(Filters=filters)["Reservations"]
    instances = [i for r in reservations for i in r["Instances"]]
    ids = [i["InstanceId"] for i in instances]
    live = [i["InstanceId"] for i in instances if i["State"]["Name"] != "terminated"]
    if live:
        ec2.terminate_instances(InstanceIds=live)
    if ids:
        # AWS deletes an instance's primary interface with it; the emulator keeps it.
        enis = ec2.describe_network_interfaces(
            Filters=[{"Name": "attachment.instance-id", "Values": ids}]
        )["NetworkInterfaces"]
        for eni in enis:
            _delete_interface(ec2, eni)
    return ids


def _delete_interface(ec2: Any, eni: Mapping[str, Any]) -> None:
    attachment = eni.get("Attachment") or {}
    if attachment.get("AttachmentId") and attachment.get("DeviceIndex") != 0:
        ignore_gone(
            lambda: ec2.detach_network_interface(
                AttachmentId=attachment["AttachmentId"], Force=True
            )
        )
    ignore_gone(lambda: ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"]))
