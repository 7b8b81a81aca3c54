from __future__ import annotations

import pytest

from perfenv.cli.program.evaluate import Evaluation
from perfenv.infra.config import NetworkConfig
from perfenv.infra.network import Network, NetworkArgs
from tests.infra.conftest import build, only


def _network(**overrides: object) -> NetworkConfig:
    values: dict[str, object] = {"cidr": "10.40.0.0/16", "az_count": 3, "nat": "per_az"}
    values.update(overrides)
    return NetworkConfig.model_validate(values)


def _build(cfg: NetworkConfig, ingress: list[str] | None = None) -> Evaluation:
    args = NetworkArgs(
        config=cfg,
        region="eu-west-1",
        app_port=8080,
        ingress_cidrs=ingress or ["10.0.0.0/8"],
        interface_endpoints=cfg.interface_endpoints,
    )
    return build(lambda: Network("t-net", args))


def test_subnets_per_zone_from_the_vpc_cidr() -> None:
    ev = _build(_network())
    subnets = ev.of_type("aws:ec2/subnet:Subnet")
    assert len(subnets) == 6
    public, private = _network().subnet_cidrs()
    assert sorted(s.inputs["cidrBlock"] for s in subnets) == sorted(public + private)
    zones = {s.inputs["availabilityZone"] for s in subnets}
    assert zones == {"eu-west-1a", "eu-west-1b", "eu-west-1c"}
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)
    vpc = only(ev, "aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == "10.40.0.0/16"
    assert all(s.parent is not None and s.parent.endswith("::t-net") for s in subnets)


@pytest.mark.parametrize(("nat", "expected"), [("per_az", 3), ("single", 1)])
def test_nat_gateways_follow_config(nat: str, expected: int) -> None:
    ev = _build(_network(nat=nat))
    assert len(ev.of_type("aws:ec2/natGateway:NatGateway")) == expected
    private_rts = [r for r in ev.of_type("aws:ec2/routeTable:RouteTable") if "private" in r.name]
    assert len(private_rts) == 3
    assert all(r.inputs["routes"][0]["natGatewayId"] for r in private_rts)


def test_private_acl_admits_only_the_vpc_and_return_traffic() -> None:
    ev = _build(_network())
    acl = only(ev, "aws:ec2/networkAcl:NetworkAcl")
    assert len(acl.inputs["subnetIds"]) == 3
    ingress = acl.inputs["ingress"]
    full = [e for e in ingress if e["protocol"] == "-1"]
    assert [e["cidrBlock"] for e in full] == ["10.40.0.0/16"]
    others = [e for e in ingress if e["protocol"] != "-1"]
    assert all(e["fromPort"] >= 1024 and e["protocol"] == "tcp" for e in others)


def test_app_port_only_from_the_load_balancer_group() -> None:
    ev = _build(_network(), ingress=["192.168.0.0/16"])
    groups = {r.name: r for r in ev.of_type("aws:ec2/securityGroup:SecurityGroup")}
    lb, app = groups["t-net-lb-sg"], groups["t-net-app-sg"]
    assert sorted(r["fromPort"] for r in lb.inputs["ingress"]) == [80, 443]
    assert all(r["cidrBlocks"] == ["10.40.0.0/16", "192.168.0.0/16"] for r in lb.inputs["ingress"])
    (rule,) = app.inputs["ingress"]
    assert rule["fromPort"] == rule["toPort"] == 8080
    assert rule["securityGroups"] == [lb.id]
    assert not rule.get("cidrBlocks")


def test_flow_logs_to_a_log_group_with_retention_and_a_role() -> None:
    ev = _build(_network(flow_log_retention_days=30))
    group = only(ev, "aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["retentionInDays"] == 30
    flow = only(ev, "aws:ec2/flowLog:FlowLog")
    role = only(ev, "aws:iam/role:Role")
    assert flow.inputs["trafficType"] == "ALL"
    assert flow.inputs["logDestination"] == group.state["arn"]
    assert flow.inputs["iamRoleArn"] == role.state["arn"]
    assert "vpc-flow-logs.amazonaws.com" in role.inputs["assumeRolePolicy"]
    policy = only(ev, "aws:iam/rolePolicy:RolePolicy")
    assert "logs:PutLogEvents" in policy.inputs["policy"]


def test_no_peering_transit_or_foreign_routes() -> None:
    ev = _build(_network())
    types = {r.type for r in ev.resources}
    assert not any("peering" in t.lower() or "transitgateway" in t.lower() for t in types)
    for table in ev.of_type("aws:ec2/routeTable:RouteTable"):
        assert [r["cidrBlock"] for r in table.inputs["routes"]] == ["0.0.0.0/0"]


def test_isolated_has_no_way_out_but_the_endpoints() -> None:
    cfg = _network(nat=None, isolated=True)
    ev = _build(cfg)
    types = {r.type for r in ev.resources}
    for gone in ("internetGateway:InternetGateway", "natGateway:NatGateway", "eip:Eip"):
        assert f"aws:ec2/{gone}" not in types
    assert all("public" not in s.name for s in ev.of_type("aws:ec2/subnet:Subnet"))
    for table in ev.of_type("aws:ec2/routeTable:RouteTable"):
        assert table.inputs["routes"] == []
    endpoints = {
        e.inputs["serviceName"]: e.inputs for e in ev.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    }
    s3 = endpoints.pop("com.amazonaws.eu-west-1.s3")
    assert s3["vpcEndpointType"] == "Gateway" and len(s3["routeTableIds"]) == 3
    assert sorted(endpoints) == sorted(
        f"com.amazonaws.eu-west-1.{s}"
        for s in ("ssm", "ssmmessages", "ec2messages", "logs", "monitoring", "sts")
    )
    assert all(
        e["vpcEndpointType"] == "Interface" and e["privateDnsEnabled"] for e in endpoints.values()
    )
    app = next(
        g for g in ev.of_type("aws:ec2/securityGroup:SecurityGroup") if g.name == "t-net-app-sg"
    )
    (vpc_rule, s3_rule) = app.inputs["egress"]
    assert vpc_rule["cidrBlocks"] == ["10.40.0.0/16"]
    assert s3_rule["fromPort"] == 443 and s3_rule["prefixListIds"][0].startswith("pl-")
    assert not s3_rule.get("cidrBlocks")


def test_nat_on_an_isolated_network_is_refused() -> None:
    with pytest.raises(ValueError, match="isolated network has no NAT gateway"):
        _network(isolated=True, nat="single")
    assert _network(isolated=True, nat="none").nat_gateways == 0
