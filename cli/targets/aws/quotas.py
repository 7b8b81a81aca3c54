"""Service Quotas beyond vCPUs, checked in the aws target's preflight before anything exists.

What a stack needs (a VPC, Elastic IPs and NAT gateways for its NAT mode, an application load
balancer) plus what the region already uses, against the account's applied quota. A quota that
cannot be read (no permission, a code the API does not know) is reported and not enforced,
as the vCPU check does; an exceeded one is bad input (exit 2), every exceeded quota named.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from perfenv.cli.errors import BadInput
from perfenv.cli.targets.base import Progress
from perfenv.infra.config import EnvironmentConfig, StackFile

ClientFactory = Callable[[str, str], Any]
LIVE_NAT = ("pending", "available")


def _vpcs(client: ClientFactory, region: str) -> int:
    pages = client("ec2", region).get_paginator("describe_vpcs").paginate()
    return sum(len(page["Vpcs"]) for page in pages)


def _addresses(client: ClientFactory, region: str) -> int:
    return len(client("ec2", region).describe_addresses()["Addresses"])


def _nat_per_zone(client: ClientFactory, region: str) -> int:
    """NAT gateways in the busiest Availability Zone."""
    ec2 = client("ec2", region)
    pages = ec2.get_paginator("describe_nat_gateways").paginate(
        Filters=[{"Name": "state", "Values": list(LIVE_NAT)}]
    )
    subnets = [n["SubnetId"] for page in pages for n in page["NatGateways"]]
    if not subnets:
        return 0
    zones = {
        s["SubnetId"]: s["AvailabilityZone"]
        for s in ec2.describe_subnets(SubnetIds=sorted(set(subnets)))["Subnets"]
    }
    return max(Counter(zones.get(s, s) for s in subnets).values())


def _albs(client: ClientFactory, region: str) -> int:
    pages = client("elbv2", region).get_paginator("describe_load_balancers").paginate()
    return sum(
        1 for page in pages for lb in page["LoadBalancers"] if lb.get("Type") == "application"
    )


@dataclass(frozen=True, kw_only=True)
class Quota:
    service: str
    code: str
    what: str
    in_use: Callable[[ClientFactory, str], int]
    needed: Callable[[EnvironmentConfig], int]


QUOTAS = (
    Quota(
        service="vpc", code="L-F678F1CE", what="VPCs per region", in_use=_vpcs, needed=lambda e: 1
    ),
    Quota(
        service="ec2",
        code="L-0263D0A3",
        what="EC2-VPC Elastic IPs",
        in_use=_addresses,
        needed=lambda e: e.network.nat_gateways,
    ),
    Quota(
        service="vpc",
        code="L-FE5A380F",
        what="NAT gateways per Availability Zone",
        in_use=_nat_per_zone,
        needed=lambda e: min(1, e.network.nat_gateways),
    ),
    Quota(
        service="elasticloadbalancing",
        code="L-53DA6B97",
        what="Application Load Balancers per region",
        in_use=_albs,
        needed=lambda e: 1,
    ),
)


def check_quotas(client: ClientFactory, config: StackFile, region: str, progress: Progress) -> None:
    env = config.environment
    if env is None:
        return
    service_quotas = client("service-quotas", region)
    exceeded = []
    for quota in QUOTAS:
        need = quota.needed(env)
        if need == 0:
            continue
        try:
            answer = service_quotas.get_service_quota(
                ServiceCode=quota.service, QuotaCode=quota.code
            )
        except Exception as exc:  # noqa: BLE001 - no permission or unknown: say so, do not block
            progress(f"{quota.what} quota {quota.code} not checked ({type(exc).__name__}: {exc})")
            continue
        limit = float(answer["Quota"]["Value"])
        used = quota.in_use(client, region)
        if used + need > limit:
            exceeded.append(
                f"{config.path.name}: quotas: {quota.what}: {used} in use + {need} needed "
                f"exceeds the account's quota {quota.code} of {limit:g} in {region}"
            )
    if exceeded:
        raise BadInput("\n".join(exceeded))
