"""Elastic Load Balancing v2: load balancers, target groups, listeners and listener rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from perfenv.cli.targets.local.realize.base import (
    Ctx,
    Inputs,
    Outputs,
    as_list,
    compact,
    ignore_gone,
    physical_name,
    register,
    tag_list,
    to_int,
    with_outputs,
)

NAME_LIMIT = 32  # load balancer and target group names


def _attributes(pairs: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for key, value in pairs.items():
        if value is None:
            continue
        text = str(value).lower() if isinstance(value, bool) else str(to_int(value))
        out.append({"Key": key, "Value": text})
    return out


def create_load_balancer(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    elbv2 = ctx.client("elbv2")
    name = physical_name(ctx, inputs, limit=NAME_LIMIT)
    internal = bool(inputs.get("internal"))
    mappings = [
        compact(SubnetId=m.get("subnetId"), AllocationId=m.get("allocationId"))
        for m in as_list(inputs.get("subnetMappings"))
    ]
    lb = elbv2.create_load_balancer(
        **compact(
            Name=name,
            Subnets=as_list(inputs.get("subnets")),
            SubnetMappings=mappings,
            SecurityGroups=as_list(inputs.get("securityGroups")),
            Scheme="internal" if internal else "internet-facing",
            Type=inputs.get("loadBalancerType") or "application",
            IpAddressType=inputs.get("ipAddressType"),
            Tags=tag_list(ctx.tags),
        )
    )["LoadBalancers"][0]
    arn = lb["LoadBalancerArn"]
    attributes = _attributes(
        {
            "idle_timeout.timeout_seconds": inputs.get("idleTimeout"),
            "deletion_protection.enabled": inputs.get("enableDeletionProtection"),
        }
    )
    if attributes:
        elbv2.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=attributes)
    return arn, with_outputs(
        inputs,
        ctx,
        id=arn,
        arn=arn,
        arnSuffix=arn.split(":loadbalancer/", 1)[1],
        name=name,
        dnsName=lb["DNSName"],
        zoneId=lb.get("CanonicalHostedZoneId"),
        vpcId=lb.get("VpcId"),
        internal=internal,
    )


def delete_load_balancer(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(lambda: ctx.client("elbv2").delete_load_balancer(LoadBalancerArn=id_))


def create_target_group(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    elbv2 = ctx.client("elbv2")
    name = physical_name(ctx, inputs, limit=NAME_LIMIT)
    check = inputs.get("healthCheck") or {}
    matcher = check.get("matcher")
    tg = elbv2.create_target_group(
        **compact(
            Name=name,
            Protocol=inputs.get("protocol"),
            ProtocolVersion=inputs.get("protocolVersion"),
            Port=to_int(inputs.get("port")),
            VpcId=inputs.get("vpcId"),
            TargetType=inputs.get("targetType"),
            HealthCheckEnabled=check.get("enabled"),
            HealthCheckPath=check.get("path"),
            HealthCheckPort=str(to_int(check["port"]))
            if check.get("port") not in (None, "traffic-port")
            else None,
            HealthCheckProtocol=check.get("protocol"),
            HealthCheckIntervalSeconds=to_int(check.get("interval")),
            HealthCheckTimeoutSeconds=to_int(check.get("timeout")),
            HealthyThresholdCount=to_int(check.get("healthyThreshold")),
            UnhealthyThresholdCount=to_int(check.get("unhealthyThreshold")),
            Matcher={"HttpCode": str(matcher)} if matcher else None,
            Tags=tag_list(ctx.tags),
        )
    )["TargetGroups"][0]
    arn = tg["TargetGroupArn"]
    attributes = _attributes(
        {"deregistration_delay.timeout_seconds": inputs.get("deregistrationDelay")}
    )
    if attributes:
        elbv2.modify_target_group_attributes(TargetGroupArn=arn, Attributes=attributes)
    return arn, with_outputs(
        inputs,
        ctx,
        id=arn,
        arn=arn,
        arnSuffix=arn.split(":", 5)[5],
        name=name,
    )


def delete_target_group(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(lambda: ctx.client("elbv2").delete_target_group(TargetGroupArn=id_))


def _actions(actions: list[Any]) -> list[dict[str, Any]]:
    out = []
    for order, action in enumerate(actions, start=1):
        kind = action.get("type")
        converted: dict[str, Any] = compact(
            Type=kind,
            TargetGroupArn=action.get("targetGroupArn"),
            Order=to_int(action.get("order"), order),
        )
        fixed = action.get("fixedResponse")
        if fixed:
            converted["FixedResponseConfig"] = compact(
                ContentType=fixed.get("contentType"),
                MessageBody=fixed.get("messageBody"),
                StatusCode=str(to_int(fixed.get("statusCode"))),
            )
        redirect = action.get("redirect")
        if redirect:
            converted["RedirectConfig"] = compact(
                Protocol=redirect.get("protocol"),
                Port=str(redirect["port"]) if redirect.get("port") else None,
                Host=redirect.get("host"),
                Path=redirect.get("path"),
                Query=redirect.get("query"),
                StatusCode=redirect.get("statusCode") or "HTTP_301",
            )
        forward = action.get("forward")
        if forward and not converted.get("TargetGroupArn"):
            converted["ForwardConfig"] = {
                "TargetGroups": [
                    compact(TargetGroupArn=t.get("arn"), Weight=to_int(t.get("weight")))
                    for t in as_list(forward.get("targetGroups"))
                ]
            }
        out.append(converted)
    return out


def create_listener(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    listener = ctx.client("elbv2").create_listener(
        **compact(
            LoadBalancerArn=inputs["loadBalancerArn"],
            Protocol=inputs.get("protocol") or "HTTP",
            Port=to_int(inputs.get("port"), 80),
            SslPolicy=inputs.get("sslPolicy"),
            Certificates=[{"CertificateArn": inputs["certificateArn"]}]
            if inputs.get("certificateArn")
            else None,
            DefaultActions=_actions(as_list(inputs.get("defaultActions"))),
            Tags=tag_list(ctx.tags),
        )
    )["Listeners"][0]
    arn = listener["ListenerArn"]
    return arn, with_outputs(inputs, ctx, id=arn, arn=arn)


def delete_listener(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(lambda: ctx.client("elbv2").delete_listener(ListenerArn=id_))


def _conditions(conditions: list[Any]) -> list[dict[str, Any]]:
    out = []
    for condition in conditions:
        if condition.get("pathPattern"):
            values = as_list(condition["pathPattern"].get("values"))
            out.append({"Field": "path-pattern", "PathPatternConfig": {"Values": values}})
        elif condition.get("hostHeader"):
            values = as_list(condition["hostHeader"].get("values"))
            out.append({"Field": "host-header", "HostHeaderConfig": {"Values": values}})
    return out


def create_listener_rule(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    rule = ctx.client("elbv2").create_rule(
        **compact(
            ListenerArn=inputs["listenerArn"],
            Priority=to_int(inputs.get("priority"), 1),
            Conditions=_conditions(as_list(inputs.get("conditions"))),
            Actions=_actions(as_list(inputs.get("actions"))),
            Tags=tag_list(ctx.tags),
        )
    )["Rules"][0]
    arn = rule["RuleArn"]
    return arn, with_outputs(inputs, ctx, id=arn, arn=arn)


def delete_listener_rule(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(lambda: ctx.client("elbv2").delete_rule(RuleArn=id_))


for _module in ("lb", "alb"):
    register(create_load_balancer, delete_load_balancer, f"aws:{_module}/loadBalancer:LoadBalancer")
    register(create_target_group, delete_target_group, f"aws:{_module}/targetGroup:TargetGroup")
    register(create_listener, delete_listener, f"aws:{_module}/listener:Listener")
    register(create_listener_rule, delete_listener_rule, f"aws:{_module}/listenerRule:ListenerRule")
