"""Network: the VPC, its subnets and routes, the private NACL, security groups, flow logs."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws
import pulumi_aws.ec2

from perfenv.infra.config import NetworkConfig
from perfenv.infra.flow_logs import FlowLogs, FlowLogsArgs

ALL_TRAFFIC = "0.0.0.0/0"
EPHEMERAL_PORTS = (1024, 65535)


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    config: NetworkConfig
    app_port: int
    ingress_cidrs: list[str]  # who may reach the load balancer on 80/443


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    lb_security_group_id: pulumi.Output[str]
    app_security_group_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("perfenv:infra:Network", name, None, opts)
        cfg = args.config
        self._prefix = name
        self._child = pulumi.ResourceOptions(parent=self)
        vpc = pulumi_aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=cfg.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            opts=self._child,
        )
        public, private = self._subnets(cfg, vpc)
        igw = self._public_routes(vpc, public)
        nats = self._nat_gateways(cfg, public, igw, len(private))
        self._private_routes(vpc, private, nats)
        self._private_acl(cfg, vpc, private)
        lb_sg, app_sg = self._security_groups(args, vpc)
        FlowLogs(
            f"{name}-flow-logs",
            FlowLogsArgs(vpc_id=vpc.id, retention_days=cfg.flow_log_retention_days),
            self._child,
        )

        self.vpc_id = vpc.id
        self.public_subnet_ids = [s.id for s in public]
        self.private_subnet_ids = [s.id for s in private]
        self.lb_security_group_id = lb_sg.id
        self.app_security_group_id = app_sg.id
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
                "lb_security_group_id": self.lb_security_group_id,
                "app_security_group_id": self.app_security_group_id,
            }
        )

    def _subnets(
        self, cfg: NetworkConfig, vpc: pulumi_aws.ec2.Vpc
    ) -> tuple[list[pulumi_aws.ec2.Subnet], list[pulumi_aws.ec2.Subnet]]:
        """One public and one private subnet per zone; nothing gets a public IP at launch."""
        zones = pulumi_aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOutputOptions(parent=self)
        )
        public_cidrs, private_cidrs = cfg.subnet_cidrs()

        def subnets(tier: str, cidrs: list[str]) -> list[pulumi_aws.ec2.Subnet]:
            return [
                pulumi_aws.ec2.Subnet(
                    f"{self._prefix}-{tier}-{i}",
                    vpc_id=vpc.id,
                    cidr_block=cidr,
                    availability_zone=zones.names[i],
                    map_public_ip_on_launch=False,
                    opts=self._child,
                )
                for i, cidr in enumerate(cidrs)
            ]

        return subnets("public", public_cidrs), subnets("private", private_cidrs)

    def _public_routes(
        self, vpc: pulumi_aws.ec2.Vpc, public: list[pulumi_aws.ec2.Subnet]
    ) -> pulumi_aws.ec2.InternetGateway:
        """Public subnets route to the internet gateway.

        The only routes are the VPC's implicit local route and the default route: no peering,
        no transit gateway, no route to another environment's CIDR.
        """
        name = self._prefix
        igw = pulumi_aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, opts=self._child)
        public_rt = pulumi_aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=vpc.id,
            routes=[pulumi_aws.ec2.RouteTableRouteArgs(cidr_block=ALL_TRAFFIC, gateway_id=igw.id)],
            opts=self._child,
        )
        for i, subnet in enumerate(public):
            pulumi_aws.ec2.RouteTableAssociation(
                f"{name}-public-rta-{i}",
                subnet_id=subnet.id,
                route_table_id=public_rt.id,
                opts=self._child,
            )
        return igw

    def _nat_gateways(
        self,
        cfg: NetworkConfig,
        public: list[pulumi_aws.ec2.Subnet],
        igw: pulumi_aws.ec2.InternetGateway,
        zones: int,
    ) -> list[pulumi_aws.ec2.NatGateway]:
        """One NAT gateway (`single`) or one per zone (`per_az`), in the public subnets."""
        nats = []
        for i in range(zones if cfg.nat == "per_az" else 1):
            eip = pulumi_aws.ec2.Eip(f"{self._prefix}-nat-eip-{i}", domain="vpc", opts=self._child)
            nats.append(
                pulumi_aws.ec2.NatGateway(
                    f"{self._prefix}-nat-{i}",
                    allocation_id=eip.allocation_id,
                    subnet_id=public[i].id,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
            )
        return nats

    def _private_routes(
        self,
        vpc: pulumi_aws.ec2.Vpc,
        private: list[pulumi_aws.ec2.Subnet],
        nats: list[pulumi_aws.ec2.NatGateway],
    ) -> None:
        """Each private subnet routes to a NAT gateway (its zone's, or the single one)."""
        for i, subnet in enumerate(private):
            rt = pulumi_aws.ec2.RouteTable(
                f"{self._prefix}-private-rt-{i}",
                vpc_id=vpc.id,
                routes=[
                    pulumi_aws.ec2.RouteTableRouteArgs(
                        cidr_block=ALL_TRAFFIC, nat_gateway_id=nats[i % len(nats)].id
                    )
                ],
                opts=self._child,
            )
            pulumi_aws.ec2.RouteTableAssociation(
                f"{self._prefix}-private-rta-{i}",
                subnet_id=subnet.id,
                route_table_id=rt.id,
                opts=self._child,
            )

    def _private_acl(
        self,
        cfg: NetworkConfig,
        vpc: pulumi_aws.ec2.Vpc,
        private: list[pulumi_aws.ec2.Subnet],
    ) -> pulumi_aws.ec2.NetworkAcl:
        """Private subnets admit the VPC's own CIDR, and return traffic on ephemeral ports."""
        low, high = EPHEMERAL_PORTS
        return pulumi_aws.ec2.NetworkAcl(
            f"{self._prefix}-private-acl",
            vpc_id=vpc.id,
            subnet_ids=[s.id for s in private],
            ingress=[
                pulumi_aws.ec2.NetworkAclIngressArgs(
                    rule_no=100,
                    action="allow",
                    protocol="-1",
                    cidr_block=cfg.cidr,
                    from_port=0,
                    to_port=0,
                ),
                pulumi_aws.ec2.NetworkAclIngressArgs(
                    rule_no=200,
                    action="allow",
                    protocol="tcp",
                    cidr_block=ALL_TRAFFIC,
                    from_port=low,
                    to_port=high,
                ),
            ],
            egress=[
                pulumi_aws.ec2.NetworkAclEgressArgs(
                    rule_no=100,
                    action="allow",
                    protocol="-1",
                    cidr_block=ALL_TRAFFIC,
                    from_port=0,
                    to_port=0,
                )
            ],
            opts=self._child,
        )

    def _security_groups(
        self, args: NetworkArgs, vpc: pulumi_aws.ec2.Vpc
    ) -> tuple[pulumi_aws.ec2.SecurityGroup, pulumi_aws.ec2.SecurityGroup]:
        """The load balancer takes 80/443 from the configured CIDRs; the app only from it."""
        lb_sg = pulumi_aws.ec2.SecurityGroup(
            f"{self._prefix}-lb-sg",
            vpc_id=vpc.id,
            description="perfenv load balancer: HTTP(S) from the configured CIDRs",
            ingress=[
                pulumi_aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp", from_port=port, to_port=port, cidr_blocks=args.ingress_cidrs
                )
                for port in (80, 443)
            ],
            egress=[
                pulumi_aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp",
                    from_port=args.app_port,
                    to_port=args.app_port,
                    cidr_blocks=[args.config.cidr],
                )
            ],
            opts=self._child,
        )
        app_sg = pulumi_aws.ec2.SecurityGroup(
            f"{self._prefix}-app-sg",
            vpc_id=vpc.id,
            description="perfenv app: the app port from the load balancer only",
            ingress=[
                pulumi_aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=args.app_port,
                    to_port=args.app_port,
                    security_groups=[lb_sg.id],
                )
            ],
            egress=[
                pulumi_aws.ec2.SecurityGroupEgressArgs(
                    protocol="-1", from_port=0, to_port=0, cidr_blocks=[ALL_TRAFFIC]
                )
            ],
            opts=self._child,
        )
        return lb_sg, app_sg
