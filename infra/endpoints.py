"""VpcEndpoints: how an isolated VPC reaches AWS without a route out.

S3 through a gateway endpoint on the private route tables (its prefix list is what the app's
security group may reach on 443); every other service through an interface endpoint in the
private subnets with private DNS, so the instances' default service names resolve to it. The
interface endpoints admit HTTPS from the VPC only.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws.ec2

from perfenv.infra.tags import role_tag

HTTPS = 443


@dataclass(frozen=True, kw_only=True)
class VpcEndpointsArgs:
    region: str
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    subnet_ids: list[pulumi.Input[str]]  # private: one interface per zone
    route_table_ids: list[pulumi.Input[str]]  # private: where the gateway endpoints route
    gateway_services: tuple[str, ...]  # "s3"
    interface_services: tuple[str, ...]  # "ssm", "logs", ...


class VpcEndpoints(pulumi.ComponentResource):
    prefix_list_ids: list[pulumi.Output[str]]  # of the gateway endpoints (S3's)
    security_group_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: VpcEndpointsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("perfenv:infra:VpcEndpoints", name, None, opts)
        self._prefix = name
        self._child = pulumi.ResourceOptions(parent=self)
        gateways = [self._gateway(args, service) for service in args.gateway_services]
        group = self._security_group(args)
        for service in args.interface_services:
            self._interface(args, service, group)
        self.prefix_list_ids = [g.prefix_list_id for g in gateways]
        self.security_group_id = group.id
        self.register_outputs(
            {"prefix_list_ids": self.prefix_list_ids, "security_group_id": self.security_group_id}
        )

    def _gateway(self, args: VpcEndpointsArgs, service: str) -> pulumi_aws.ec2.VpcEndpoint:
        return pulumi_aws.ec2.VpcEndpoint(
            f"{self._prefix}-{_slug(service)}",
            vpc_id=args.vpc_id,
            service_name=f"com.amazonaws.{args.region}.{service}",
            vpc_endpoint_type="Gateway",
            route_table_ids=args.route_table_ids,
            opts=self._child,
        )

    def _security_group(self, args: VpcEndpointsArgs) -> pulumi_aws.ec2.SecurityGroup:
        return pulumi_aws.ec2.SecurityGroup(
            f"{self._prefix}-sg",
            vpc_id=args.vpc_id,
            description="perfenv VPC endpoints: HTTPS from the VPC",
            ingress=[
                pulumi_aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp", from_port=HTTPS, to_port=HTTPS, cidr_blocks=[args.vpc_cidr]
                )
            ],
            egress=[],
            tags=role_tag("endpoints"),
            opts=self._child,
        )

    def _interface(
        self, args: VpcEndpointsArgs, service: str, group: pulumi_aws.ec2.SecurityGroup
    ) -> pulumi_aws.ec2.VpcEndpoint:
        return pulumi_aws.ec2.VpcEndpoint(
            f"{self._prefix}-{_slug(service)}",
            vpc_id=args.vpc_id,
            service_name=f"com.amazonaws.{args.region}.{service}",
            vpc_endpoint_type="Interface",
            subnet_ids=args.subnet_ids,
            security_group_ids=[group.id],
            private_dns_enabled=True,
            opts=self._child,
        )


def _slug(service: str) -> str:
    return service.replace(".", "-")
