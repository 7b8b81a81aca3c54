"""What a stack's program builds, made environment-neutral: components, types and rules.

Parity compares two stacks' fingerprints. Names lose the environment's prefix and per-zone
index, the VPC's own CIDR becomes `<vpc-cidr>`, resource ids become the neutral names of the
resources they point at: what remains differs between two environments only if their shape
does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from perfenv.infra.config import EnvironmentConfig

COMPONENT_PREFIX = "perfenv:infra:"
# Resource types whose count follows a scale field alone (fleet.schedules), down to zero.
SCALE_DRIVEN_TYPES = frozenset({"aws:autoscaling/schedule:Schedule"})


@dataclass(frozen=True, kw_only=True)
class Fingerprint:
    components: set[str]
    types: set[str]
    rules: set[str]


def fingerprint(resources: Iterable[Any], env: EnvironmentConfig) -> Fingerprint:
    """Components, resource types and rules, with names and CIDRs made environment-neutral."""
    resources = list(resources)
    names = {r.id: _neutral_name(r.name, env) for r in resources if r.id}
    norm = _Normalizer(env, names)
    rules: set[str] = set()
    for r in resources:
        extract = RULES.get(r.type)
        if extract is not None:
            rules |= {f"{_neutral_name(r.name, env)}: {rule}" for rule in extract(r.inputs, norm)}
    return Fingerprint(
        components={r.type for r in resources if r.type.startswith(COMPONENT_PREFIX)},
        types={
            r.type
            for r in resources
            if not r.type.startswith(COMPONENT_PREFIX) and r.type not in SCALE_DRIVEN_TYPES
        },
        rules=rules,
    )


def _neutral_name(name: str, env: EnvironmentConfig) -> str:
    """`perf-net-private-rt-1` -> `net-private-rt-*`; the namespace's own name -> `namespace`."""
    if name == env.kubernetes.namespace:
        return "namespace"
    name = name.removeprefix(f"{env.name}-")
    return re.sub(r"-\d+$", "-*", name)


@dataclass(frozen=True)
class _Normalizer:
    env: EnvironmentConfig
    names: dict[str, str]  # resource id -> neutral name

    def cidr(self, value: Any) -> str:
        return "<vpc-cidr>" if value == self.env.network.cidr else str(value)

    def ref(self, value: Any) -> str:
        return self.names.get(str(value), str(value))


def _num(value: Any) -> str:
    return f"{float(value):g}" if isinstance(value, int | float) else str(value)


def _sg_rules(inputs: dict[str, Any], n: _Normalizer) -> set[str]:
    rules = set()
    for direction in ("ingress", "egress"):
        for rule in inputs.get(direction) or []:
            peers = sorted(
                [n.cidr(c) for c in rule.get("cidrBlocks") or []]
                + list(rule.get("ipv6CidrBlocks") or [])
                + [f"sg:{n.ref(g)}" for g in rule.get("securityGroups") or []]
                + (["self"] if rule.get("self") else [])
                + ["prefix-list"] * len(rule.get("prefixListIds") or [])
            )
            rules.add(
                f"{direction} {rule.get('protocol')} {_num(rule.get('fromPort'))}-"
                f"{_num(rule.get('toPort'))} {'from' if direction == 'ingress' else 'to'} "
                + ",".join(peers)
            )
    return rules


def _acl_rules(inputs: dict[str, Any], n: _Normalizer) -> set[str]:
    return {
        f"{direction} #{_num(e.get('ruleNo'))} {e.get('action')} {e.get('protocol')} "
        f"{_num(e.get('fromPort'))}-{_num(e.get('toPort'))} {n.cidr(e.get('cidrBlock'))}"
        for direction in ("ingress", "egress")
        for e in inputs.get(direction) or []
    }


_ROUTE_TARGETS = (
    "gatewayId",
    "natGatewayId",
    "vpcPeeringConnectionId",
    "transitGatewayId",
    "networkInterfaceId",
    "vpcEndpointId",
    "egressOnlyGatewayId",
    "carrierGatewayId",
    "localGatewayId",
    "coreNetworkArn",
)


def _route_rules(inputs: dict[str, Any], n: _Normalizer) -> set[str]:
    rules = set()
    for route in inputs.get("routes") or []:
        target = [k for k in _ROUTE_TARGETS if route.get(k)]
        dest = (
            route.get("cidrBlock")
            or route.get("ipv6CidrBlock")
            or route.get("destinationPrefixListId")
        )
        rules.add(f"route {n.cidr(dest)} via {','.join(target) or 'local'}")
    return rules


def _listener_rules(inputs: dict[str, Any], n: _Normalizer) -> set[str]:
    actions = ",".join(a.get("type", "?") for a in inputs.get("defaultActions") or [])
    tls = f" {inputs['sslPolicy']}" if inputs.get("sslPolicy") else ""
    return {f"listener {inputs.get('protocol')}:{_num(inputs.get('port'))} -> {actions}{tls}"}


def _pick(inputs: dict[str, Any], *keys: str) -> set[str]:
    return {f"{k}={json.dumps(inputs.get(k), sort_keys=True)}" for k in keys}


def _launch_template_rules(inputs: dict[str, Any], n: _Normalizer) -> set[str]:
    rules = _pick(inputs.get("metadataOptions") or {}, "httpTokens", "httpEndpoint")
    for bdm in inputs.get("blockDeviceMappings") or []:
        ebs = bdm.get("ebs") or {}
        rules.add(f"ebs {bdm.get('deviceName')} encrypted={ebs.get('encrypted')}")
    for nic in inputs.get("networkInterfaces") or []:
        rules.add(f"public ip={nic.get('associatePublicIpAddress')}")
        rules |= {f"nic sg:{n.ref(g)}" for g in nic.get("securityGroups") or []}
    return rules


def _alarm_rules(inputs: dict[str, Any], n: _Normalizer) -> set[str]:
    metric = f"{inputs.get('namespace')}/{inputs.get('metricName')}"
    stat = inputs.get("extendedStatistic") or inputs.get("statistic")
    queries = ",".join(
        (q.get("metric") or {}).get("metricName") or q.get("expression") or ""
        for q in inputs.get("metricQueries") or []
    )
    what = f"query {queries}" if queries else f"{metric} {stat}"
    return {f"alarm {what} {inputs.get('comparisonOperator')}"}


def _policy_rules(inputs: dict[str, Any], n: _Normalizer) -> set[str]:
    spec = (inputs.get("targetTrackingConfiguration") or {}).get(
        "predefinedMetricSpecification"
    ) or {}
    return {f"policy {inputs.get('policyType')} {spec.get('predefinedMetricType')}"}


def _spec(inputs: dict[str, Any], n: _Normalizer) -> set[str]:
    spec = json.dumps(inputs.get("spec"), sort_keys=True, default=str)
    return {spec.replace(json.dumps(n.env.kubernetes.namespace), '"<namespace>"')}


def _quota_keys(inputs: dict[str, Any], n: _Normalizer) -> set[str]:
    hard = (inputs.get("spec") or {}).get("hard") or {}
    return {f"quota on {','.join(sorted(hard))}"}


def _limit_keys(inputs: dict[str, Any], n: _Normalizer) -> set[str]:
    return {
        f"limits {lim.get('type')}: default {','.join(sorted(lim.get('default') or {}))}; "
        f"request {','.join(sorted(lim.get('defaultRequest') or {}))}"
        for lim in (inputs.get("spec") or {}).get("limits") or []
    }


def _container_limits(inputs: dict[str, Any], n: _Normalizer) -> set[str]:
    pod = (((inputs.get("spec") or {}).get("template") or {}).get("spec")) or {}
    limits = {
        str(c.get("name")): sorted((c.get("resources") or {}).get("limits") or {})
        for c in pod.get("containers") or []
    }
    return {f"container {name} limits {','.join(keys)}" for name, keys in limits.items()}


RULES: dict[str, Callable[[dict[str, Any], _Normalizer], set[str]]] = {
    "aws:ec2/securityGroup:SecurityGroup": _sg_rules,
    "aws:ec2/networkAcl:NetworkAcl": _acl_rules,
    "aws:ec2/routeTable:RouteTable": _route_rules,
    "aws:lb/listener:Listener": _listener_rules,
    "aws:lb/loadBalancer:LoadBalancer": lambda i, n: _pick(
        i, "internal", "loadBalancerType", "dropInvalidHeaderFields"
    ),
    "aws:lb/targetGroup:TargetGroup": lambda i, n: _pick(i, "protocol", "healthCheck"),
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template_rules,
    "aws:autoscaling/group:Group": lambda i, n: _pick(i, "healthCheckType"),
    "aws:autoscaling/policy:Policy": _policy_rules,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm_rules,
    "aws:ec2/flowLog:FlowLog": lambda i, n: _pick(i, "trafficType", "logDestinationType"),
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": _spec,
    "kubernetes:core/v1:ResourceQuota": _quota_keys,
    "kubernetes:core/v1:LimitRange": _limit_keys,
    "kubernetes:apps/v1:Deployment": _container_limits,
}
