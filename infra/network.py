"""Network: the VPC, its subnets and routes, the private NACL, security groups, flow logs.

Facing the internet, public subnets route to an internet gateway and private ones to NAT
gateways (`nat`). Isolated (`network.isolated`), there is neither: no public subnets, no
internet or NAT gateway, no route to 0.0.0.0/0 or ::/0; VPC endpoints serve what instances need
from AWS, and the app's egress is limited to the VPC and the S3 endpoint's prefix list.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws
import pulumi_aws.ec2

from perfenv.infra.config import NetworkConfig
from perfenv.infra.endpoints import HTTPS, VpcEndpoints, VpcEndpointsArgs
from perfenv.infra.flow_logs import FlowLogs, FlowLogsArgs
from perfenv.infra.network_rules import ALL_TRAFFIC, private_acl, security_groups
from perfenv.infra.tags import NETWORK_KEY


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    config: NetworkConfig
    region: str
    app_port: int
    ingress_cidrs: list[str]  # who may reach the load balancer on 80/443
    interface_endpoints: tuple[str, ...] = ()  # isolated: the services instances reach


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    lb_security_group_id: pulumi.Output[str]
    app_security_group_id: pulumi.Output[str]
    instance_egress: list[pulumi_aws.ec2.SecurityGroupEgressArgs]  # what instances may reach

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
            tags={NETWORK_KEY: "isolated" if cfg.isolated else "internet-facing"},
            opts=self._child,
        )
        public, private = self._subnets(cfg, vpc)
        nats: list[pulumi_aws.ec2.NatGateway] = []
        if cfg.internet_facing:
            igw = self._public_routes(vpc, public)
            nats = self._nat_gateways(cfg, public, igw, len(private))
        tables = self._private_routes(vpc, private, nats)
        self.instance_egress = self._instance_egress(args, vpc, private, tables)
        private_acl(f"{name}-private-acl", cfg.cidr, vpc, private, self._child)
        lb_sg, app_sg = security_groups(
            name,
            args.ingress_cidrs,
            args.app_port,
            cfg.cidr,
            vpc,
            self.instance_egress,
            self._child,
        )
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
        """One private subnet per zone, and a public one facing the internet; nothing gets a
        public IP at launch."""
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

        public = subnets("public", public_cidrs) if cfg.internet_facing else []
        return public, subnets("private", private_cidrs)

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
    ) -> list[pulumi_aws.ec2.RouteTable]:
        """Each private subnet routes to a NAT gateway (its zone's, or the single one), or,
        without one, nowhere beyond the VPC."""
        tables = []
        for i, subnet in enumerate(private):
            routes = [
                pulumi_aws.ec2.RouteTableRouteArgs(
                    cidr_block=ALL_TRAFFIC, nat_gateway_id=nats[i % len(nats)].id
                )
                for _ in nats[:1]
            ]
            rt = pulumi_aws.ec2.RouteTable(
                f"{self._prefix}-private-rt-{i}",
                vpc_id=vpc.id,
                routes=routes,
                opts=self._child,
            )
            tables.append(rt)
            pulumi_aws.ec2.RouteTableAssociation(
                f"{self._prefix}-private-rta-{i}",
                subnet_id=subnet.id,
                route_table_id=rt.id,
                opts=self._child,
            )
        return tables

    def _instance_egress(
        self,
        args: NetworkArgs,
        vpc: pulumi_aws.ec2.Vpc,
        private: list[pulumi_aws.ec2.Subnet],
        tables: list[pulumi_aws.ec2.RouteTable],
    ) -> list[pulumi_aws.ec2.SecurityGroupEgressArgs]:
        """Anywhere, facing the internet; isolated, the VPC and HTTPS to S3's prefix list
        (through the endpoints built here)."""
        cfg = args.config
        if cfg.internet_facing:
            return [
                pulumi_aws.ec2.SecurityGroupEgressArgs(
                    protocol="-1", from_port=0, to_port=0, cidr_blocks=[ALL_TRAFFIC]
                )
            ]
        endpoints = VpcEndpoints(
            f"{self._prefix}-endpoints",
            VpcEndpointsArgs(
                region=args.region,
                vpc_id=vpc.id,
                vpc_cidr=cfg.cidr,
                subnet_ids=[s.id for s in private],
                route_table_ids=[t.id for t in tables],
                gateway_services=cfg.gateway_endpoints,
                interface_services=args.interface_endpoints,
            ),
            self._child,
        )
        return [
            pulumi_aws.ec2.SecurityGroupEgressArgs(
                protocol="-1", from_port=0, to_port=0, cidr_blocks=[cfg.cidr]
            ),
            pulumi_aws.ec2.SecurityGroupEgressArgs(
                protocol="tcp",
                from_port=HTTPS,
                to_port=HTTPS,
                prefix_list_ids=endpoints.prefix_list_ids,
            ),
        ]
