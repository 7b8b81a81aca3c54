"""The Network's traffic rules: the private subnets' NACL and the security groups.

Functions, not a component: their resources are the Network's children (their URNs predate
this module).
"""

from __future__ import annotations

import pulumi
import pulumi_aws.ec2

from perfenv.infra.tags import role_tag

ALL_TRAFFIC = "0.0.0.0/0"
EPHEMERAL_PORTS = (1024, 65535)


def private_acl(
    name: str,
    vpc_cidr: str,
    vpc: pulumi_aws.ec2.Vpc,
    private: list[pulumi_aws.ec2.Subnet],
    opts: pulumi.ResourceOptions,
) -> pulumi_aws.ec2.NetworkAcl:
    """Private subnets admit the VPC's own CIDR, and return traffic on ephemeral ports (from
    S3's addresses too, through the gateway endpoint)."""
    low, high = EPHEMERAL_PORTS
    return pulumi_aws.ec2.NetworkAcl(
        name,
        vpc_id=vpc.id,
        subnet_ids=[s.id for s in private],
        ingress=[
            pulumi_aws.ec2.NetworkAclIngressArgs(
                rule_no=100,
                action="allow",
                protocol="-1",
                cidr_block=vpc_cidr,
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
        opts=opts,
    )


def security_groups(
    prefix: str,
    ingress_cidrs: list[str],
    app_port: int,
    vpc_cidr: str,
    vpc: pulumi_aws.ec2.Vpc,
    app_egress: list[pulumi_aws.ec2.SecurityGroupEgressArgs],
    opts: pulumi.ResourceOptions,
) -> tuple[pulumi_aws.ec2.SecurityGroup, pulumi_aws.ec2.SecurityGroup]:
    """The load balancer takes 80/443 from the configured CIDRs and the VPC (where the load
    generator runs); the app only from it."""
    lb_sg = pulumi_aws.ec2.SecurityGroup(
        f"{prefix}-lb-sg",
        vpc_id=vpc.id,
        description="perfenv load balancer: HTTP(S) from the configured CIDRs",
        ingress=[
            pulumi_aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_blocks=sorted(set(ingress_cidrs) | {vpc_cidr}),
            )
            for port in (80, 443)
        ],
        egress=[
            pulumi_aws.ec2.SecurityGroupEgressArgs(
                protocol="tcp", from_port=app_port, to_port=app_port, cidr_blocks=[vpc_cidr]
            )
        ],
        tags=role_tag("load-balancer"),
        opts=opts,
    )
    app_sg = pulumi_aws.ec2.SecurityGroup(
        f"{prefix}-app-sg",
        vpc_id=vpc.id,
        description="perfenv app: the app port from the load balancer only",
        ingress=[
            pulumi_aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp", from_port=app_port, to_port=app_port, security_groups=[lb_sg.id]
            )
        ],
        egress=app_egress,
        tags=role_tag("app"),
        opts=opts,
    )
    return lb_sg, app_sg
