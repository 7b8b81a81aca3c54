"""The environment's rules, as plain functions over a stack's resources.

One module, two users: the Pulumi policy pack beside it (`__main__.py`, for
`pulumi up --policy-pack`) and perfenv, which runs the same functions over the resources its
mock evaluation registered (`perfenv preview`, `up`, `run`, `validate --policies`). It imports
nothing but the standard library: the pack runs in its own virtualenv, without perfenv.

A rule takes every resource of the stack (`Resource`: type, name, URN, properties as Pulumi
names them, and its provider's properties) and yields `(resource, message)` for each violation
(`resource` None: the stack as a whole). Mandatory rules stop a deploy; advisory ones warn.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ROLE_KEY = "perfenv:role"  # own tag: what a security group or instance is for
NETWORK_KEY = "perfenv:network"  # own tag of the VPC: isolated | internet-facing
REQUIRED_TAGS = (
    "perfenv:project",
    "perfenv:environment",
    "perfenv:stack",
    "perfenv:release",
    "perfenv:owner",
)
# Families the environments are sized and priced for (the cost table knows them).
ALLOWED_INSTANCE_FAMILIES = ("t3", "t3a", "m6i", "m7i", "c6i", "c7i", "r6i", "r7i")
ANYWHERE = ("0.0.0.0/0", "::/0")
# AWS resources that take no tags.
UNTAGGABLE = frozenset(
    {
        "aws:autoscaling/policy:Policy",
        "aws:autoscaling/schedule:Schedule",
        "aws:costexplorer/costAllocationTag:CostAllocationTag",
        "aws:ec2/route:Route",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/internetGatewayAttachment:InternetGatewayAttachment",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:sns/topicPolicy:TopicPolicy",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:ec2/securityGroupRule:SecurityGroupRule",
    }
)
WAYS_OUT = frozenset(
    {
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/eip:Eip",
        "aws:ec2/vpnGateway:VpnGateway",
        "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
    }
)
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
NAMESPACE = "kubernetes:core/v1:Namespace"
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


@dataclass(frozen=True, kw_only=True)
class Resource:
    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    provider_props: Mapping[str, Any] = field(default_factory=dict)


Found = Iterator[tuple[Resource | None, str]]


@dataclass(frozen=True, kw_only=True)
class Rule:
    name: str
    description: str
    mandatory: bool
    check: Callable[[Sequence[Resource]], Found]


@dataclass(frozen=True, kw_only=True)
class Violation:
    rule: str
    mandatory: bool
    resource: str  # "<name> (<type>)", or "the stack"
    urn: str | None
    message: str

    def line(self) -> str:
        return f"policy {self.rule}: {self.resource}: {self.message}"


def evaluate(resources: Sequence[Resource], rules: Iterable[Rule] | None = None) -> list[Violation]:
    """Every violation of `rules` (default: all) by the stack's resources."""
    violations = []
    for rule in RULES if rules is None else rules:
        for resource, message in rule.check(resources):
            violations.append(
                Violation(
                    rule=rule.name,
                    mandatory=rule.mandatory,
                    resource="the stack"
                    if resource is None
                    else f"{resource.name} ({resource.type})",
                    urn=None if resource is None else resource.urn,
                    message=message,
                )
            )
    return violations


# --- helpers ------------------------------------------------------------------------------------


def _describe(resource: Resource | None) -> str:
    return "the stack" if resource is None else f"{resource.name} ({resource.type})"


def _of(resources: Sequence[Resource], *types: str) -> list[Resource]:
    return [r for r in resources if r.type in types]


def _tags(value: Any) -> dict[str, str]:
    """A tag map as Pulumi holds it (a map, or on the wire a JSON string)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def _own_tags(resource: Resource) -> dict[str, str]:
    return _tags(resource.props.get("tags"))


def _default_tags(resource: Resource) -> dict[str, str]:
    raw = resource.provider_props.get("defaultTags")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return {}
    return _tags(raw.get("tags")) if isinstance(raw, Mapping) else {}


def _port(value: Any) -> str:
    return str(int(value)) if isinstance(value, int | float) else str(value)


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


# --- the rules ----------------------------------------------------------------------------------


def no_public_ingress_to_app(resources: Sequence[Resource]) -> Found:
    """Only a load balancer's security group may admit the whole internet."""
    for sg in _of(resources, SECURITY_GROUP):
        if _own_tags(sg).get(ROLE_KEY) == "load-balancer":
            continue
        for rule in _list(sg.props.get("ingress")):
            peers = _list(rule.get("cidrBlocks")) + _list(rule.get("ipv6CidrBlocks"))
            for peer in (p for p in peers if p in ANYWHERE):
                ports = f"{_port(rule.get('fromPort'))}-{_port(rule.get('toPort'))}"
                yield sg, f"ingress from {peer} on {rule.get('protocol')} {ports}"
    for rule in _of(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        peer = rule.props.get("cidrIpv4") or rule.props.get("cidrIpv6")
        if peer in ANYWHERE:
            yield rule, f"ingress from {peer}"


def isolated_no_route_out(resources: Sequence[Resource]) -> Found:
    """A stack whose VPC is isolated has no way out of it: no gateway, NAT, public address or
    route to anywhere, and its balancer is internal."""
    isolated = [
        v for v in _of(resources, "aws:ec2/vpc:Vpc") if _own_tags(v).get(NETWORK_KEY) == "isolated"
    ]
    if not isolated:
        return
    for resource in resources:
        if resource.type in WAYS_OUT:
            yield resource, "an isolated stack has no internet, NAT or VPN gateway, peering or EIP"
    for table in _of(resources, "aws:ec2/routeTable:RouteTable"):
        for route in _list(table.props.get("routes")):
            for dest in (route.get("cidrBlock"), route.get("ipv6CidrBlock")):
                if dest in ANYWHERE:
                    yield table, f"route to {dest}"
    for route in _of(resources, "aws:ec2/route:Route"):
        for dest in (
            route.props.get("destinationCidrBlock"),
            route.props.get("destinationIpv6CidrBlock"),
        ):
            if dest in ANYWHERE:
                yield route, f"route to {dest}"
    for lb in _of(
        resources, "aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"
    ):
        if lb.props.get("internal") is not True:
            yield lb, "the load balancer faces the internet (internal is not true)"
    for subnet in _of(resources, "aws:ec2/subnet:Subnet"):
        if subnet.props.get("mapPublicIpOnLaunch") is True:
            yield subnet, "the subnet gives instances public IPs"


def required_tags(resources: Sequence[Resource]) -> Found:
    """Every taggable AWS resource carries perfenv's tags: through its provider's default tags
    or its own; groups on their propagated tags, launch templates on what they launch."""
    for resource in resources:
        if not resource.type.startswith("aws:") or resource.type in UNTAGGABLE:
            continue
        if resource.type == "aws:autoscaling/group:Group":
            have = {
                t.get("key")
                for t in _list(resource.props.get("tags"))
                if isinstance(t, Mapping) and t.get("propagateAtLaunch")
            }
            where = "propagated group tags"
        else:
            have = set(_default_tags(resource)) | set(_own_tags(resource))
            where = "tags"
        missing = [k for k in REQUIRED_TAGS if k not in have]
        if missing:
            yield resource, f"{where} lack {', '.join(missing)}"
        if resource.type == LAUNCH_TEMPLATE:
            specs = {
                s.get("resourceType"): _tags(s.get("tags"))
                for s in _list(resource.props.get("tagSpecifications"))
                if isinstance(s, Mapping)
            }
            for kind in ("instance", "volume"):
                lacking = [k for k in REQUIRED_TAGS if k not in specs.get(kind, {})]
                if lacking:
                    yield resource, f"{kind} tags lack {', '.join(lacking)}"


def imdsv2_required(resources: Sequence[Resource]) -> Found:
    for resource in _of(resources, LAUNCH_TEMPLATE, INSTANCE):
        options = resource.props.get("metadataOptions") or {}
        if not isinstance(options, Mapping) or options.get("httpTokens") != "required":
            yield resource, "instance metadata must require IMDSv2 (httpTokens: required)"


def allowed_instance_types(resources: Sequence[Resource]) -> Found:
    for resource in _of(resources, LAUNCH_TEMPLATE, INSTANCE):
        kind = str(resource.props.get("instanceType") or "")
        if kind.split(".", 1)[0] not in ALLOWED_INSTANCE_FAMILIES:
            families = ", ".join(ALLOWED_INSTANCE_FAMILIES)
            yield resource, f"instance type {kind or '(none)'} is not of {families}"


def kubernetes_namespaces_fenced(resources: Sequence[Resource]) -> Found:
    """Each namespace has a ResourceQuota, a LimitRange and a default-deny ingress policy."""
    for ns in _of(resources, NAMESPACE):
        name = _metadata(ns).get("name")
        # a namespace not yet named (a preview) is matched by every object of the stack
        inside = [
            r for r in resources if name is None or _metadata(r).get("namespace") in (name, None)
        ]
        if not _of(inside, "kubernetes:core/v1:ResourceQuota"):
            yield ns, "no ResourceQuota"
        if not _of(inside, "kubernetes:core/v1:LimitRange"):
            yield ns, "no LimitRange"
        if not any(_denies_ingress(p) for p in _of(inside, NETWORK_POLICY)):
            yield ns, "no default-deny ingress NetworkPolicy"


def _metadata(resource: Resource) -> Mapping[str, Any]:
    meta = resource.props.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _denies_ingress(policy: Resource) -> bool:
    spec = policy.props.get("spec") or {}
    if not isinstance(spec, Mapping):
        return False
    return (
        spec.get("podSelector") in ({}, None)
        and "Ingress" in _list(spec.get("policyTypes"))
        and not _list(spec.get("ingress"))
    )


RULES: tuple[Rule, ...] = (
    Rule(
        name="no-public-ingress-to-app",
        description="No security group but a load balancer's admits 0.0.0.0/0 or ::/0.",
        mandatory=True,
        check=no_public_ingress_to_app,
    ),
    Rule(
        name="isolated-no-route-out",
        description="An isolated stack has no gateway, NAT, public IP or route to anywhere.",
        mandatory=True,
        check=isolated_no_route_out,
    ),
    Rule(
        name="required-tags",
        description="Every taggable AWS resource carries perfenv's tags.",
        mandatory=True,
        check=required_tags,
    ),
    Rule(
        name="imdsv2-required",
        description="Launch templates and instances require IMDSv2.",
        mandatory=True,
        check=imdsv2_required,
    ),
    Rule(
        name="allowed-instance-types",
        description="Instance types come from the families perfenv sizes and prices.",
        mandatory=False,
        check=allowed_instance_types,
    ),
    Rule(
        name="kubernetes-namespaces-fenced",
        description="Namespaces have a quota, a limit range and a default-deny policy.",
        mandatory=True,
        check=kubernetes_namespaces_fenced,
    ),
)
