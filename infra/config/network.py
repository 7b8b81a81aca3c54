"""`network`: the VPC's address space, zones, NAT mode and isolation.

An isolated network has no way out: no internet gateway, no NAT gateway, no default route. What
its instances need from AWS they reach through VPC endpoints (`ENDPOINT_SERVICES`).
"""

from __future__ import annotations

import ipaddress
import math
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from perfenv.infra.config.model import Model, Scale

MIN_SUBNET_PREFIX = 28  # AWS refuses subnets smaller than /28
NatMode = Literal["none", "single", "per_az"]
# What instances in an isolated network reach AWS through: S3 (artifacts, the state store, the
# Amazon Linux repositories) by a gateway endpoint, the rest by interface endpoints (SSM and
# Run Command, CloudWatch Logs and metrics, STS for the instance profile's credentials).
GATEWAY_ENDPOINTS = ("s3",)
INTERFACE_ENDPOINTS = ("ssm", "ssmmessages", "ec2messages", "logs", "monitoring", "sts")


class NetworkConfig(Model):
    cidr: str
    az_count: int = Scale(ge=1, le=6)
    isolated: bool = False
    nat: NatMode | None = Scale(None)  # absent: single, or none when isolated
    flow_log_retention_days: int = Field(14, gt=0)

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.IPv4Network(value, strict=True)
        except ValueError as exc:
            raise PydanticCustomError(
                "cidr", "not an IPv4 network in CIDR form ({error})", {"error": str(exc)}
            ) from None
        if not 16 <= net.prefixlen <= 24:
            raise PydanticCustomError(
                "cidr", "prefix must be between /16 and /24 (got /{p})", {"p": net.prefixlen}
            )
        return value

    @field_validator("az_count")
    @classmethod
    def _fits(cls, value: int, info: ValidationInfo) -> int:
        cidr = info.data.get("cidr")
        if cidr is not None:
            prefix = subnet_prefix(cidr, value)
            if prefix > MIN_SUBNET_PREFIX:
                raise PydanticCustomError(
                    "cidr_too_small",
                    "{cidr} cannot hold {n} public and {n} private subnets (each would be /{p})",
                    {"cidr": cidr, "n": value, "p": prefix},
                )
        return value

    @field_validator("nat")
    @classmethod
    def _no_nat_when_isolated(cls, value: NatMode | None, info: ValidationInfo) -> NatMode | None:
        if info.data.get("isolated") and value not in (None, "none"):
            raise PydanticCustomError(
                "isolated_nat",
                "an isolated network has no NAT gateway (got {nat}): remove nat or set none",
                {"nat": value},
            )
        return value

    @property
    def nat_mode(self) -> NatMode:
        """What is built: `none` when isolated, else the configured mode (default `single`)."""
        if self.isolated:
            return "none"
        return self.nat or "single"

    @property
    def nat_gateways(self) -> int:
        return {"none": 0, "single": 1, "per_az": self.az_count}[self.nat_mode]

    @property
    def internet_facing(self) -> bool:
        """Whether the VPC has an internet gateway (and its balancer faces the internet)."""
        return not self.isolated

    @property
    def gateway_endpoints(self) -> tuple[str, ...]:
        return GATEWAY_ENDPOINTS if self.isolated else ()

    @property
    def interface_endpoints(self) -> tuple[str, ...]:
        return INTERFACE_ENDPOINTS if self.isolated else ()

    def subnet_cidrs(self) -> tuple[list[str], list[str]]:
        """(public, private) subnet CIDRs, one of each per zone, carved in order."""
        net = ipaddress.IPv4Network(self.cidr)
        subnets = list(net.subnets(new_prefix=subnet_prefix(self.cidr, self.az_count)))
        return (
            [str(s) for s in subnets[: self.az_count]],
            [str(s) for s in subnets[self.az_count : 2 * self.az_count]],
        )


def subnet_prefix(cidr: str, az_count: int) -> int:
    """Prefix length that fits az_count public plus az_count private subnets in cidr."""
    return ipaddress.IPv4Network(cidr).prefixlen + math.ceil(math.log2(2 * az_count))
