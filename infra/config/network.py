"""`network`: the VPC's address space, zones, NAT mode and isolation."""

from __future__ import annotations

import ipaddress
import math
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from perfenv.infra.config.model import Model, Scale

MIN_SUBNET_PREFIX = 28  # AWS refuses subnets smaller than /28


class NetworkConfig(Model):
    cidr: str
    az_count: int = Scale(ge=1, le=6)
    nat: Literal["single", "per_az"] = Scale("single")
    isolated: bool = False
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
