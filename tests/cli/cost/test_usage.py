"""The estimate counts what the program creates: each line's quantity against the resources the
evaluated program registers for every shipped environment stack (and sizes of the generator)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from perfenv.cli.cost.estimate import Estimate, estimate_environment
from perfenv.cli.cost.prices import load_prices
from perfenv.cli.cost.usage import (
    ASSUMED,
    DASHBOARDS,
    GENERATOR_VOLUME_GB,
    MONITORING_ALARMS,
    NOT_INCLUDED,
    TRACKING_POLICIES,
)
from perfenv.cli.program.evaluate import Evaluation, evaluate
from perfenv.infra.config import StackFile, load_all

LB = "aws:lb/loadBalancer:LoadBalancer"
ASG = "aws:autoscaling/group:Group"


@pytest.fixture(scope="module")
def shipped() -> list[tuple[StackFile, Evaluation]]:
    return [(f, evaluate(f, f.stack)) for f in load_all() if f.environment is not None]


def _quantity(estimate: Estimate, item: str) -> Decimal:
    found = [line.quantity for line in estimate.lines if line.item == item]
    return found[0] if found else Decimal(0)


def _count(ev: Evaluation, type_: str, **inputs: Any) -> int:
    return sum(all(r.inputs.get(k) == v for k, v in inputs.items()) for r in ev.of_type(type_))


def _generates(inputs: dict[str, Any]) -> bool:
    """A load generator's group or template: its role tag says so."""
    tags = inputs.get("tags") or {}
    values = [t["value"] for t in tags] if isinstance(tags, list) else list(tags.values())
    specs = inputs.get("tagSpecifications") or []
    values += [v for spec in specs for v in spec.get("tags", {}).values()]
    return any(str(v).startswith("load-generator") for v in values)


def test_every_counted_line_matches_what_the_program_registers(
    shipped: list[tuple[StackFile, Evaluation]],
) -> None:
    for stack, ev in shipped:
        env = stack.environment
        assert env is not None
        estimate = estimate_environment(stack.stack, env, Decimal(1), load_prices())
        nats = _count(ev, "aws:ec2/natGateway:NatGateway")
        assert _quantity(estimate, "NAT gateway hours") == nats, stack.stack
        interfaces = [
            r
            for r in ev.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
            if r.inputs.get("vpcEndpointType") == "Interface"
        ]
        zones = sum(len(r.inputs["subnetIds"]) for r in interfaces)
        assert _quantity(estimate, "VPC endpoint hours") == zones, stack.stack
        (alb,) = ev.of_type(LB)
        facing = 0 if alb.inputs.get("internal") else len(alb.inputs["subnets"])
        eips = _count(ev, "aws:ec2/eip:Eip")
        assert _quantity(estimate, "public IPv4 addresses") == eips + facing, stack.stack
        assert _count(ev, "aws:cloudwatch/metricAlarm:MetricAlarm") == MONITORING_ALARMS
        assert _count(ev, "aws:cloudwatch/dashboard:Dashboard") == DASHBOARDS
        policies = _count(ev, "aws:autoscaling/policy:Policy", policyType="TargetTrackingScaling")
        assert policies == TRACKING_POLICIES, stack.stack
        sizes = {True: 0, False: 0}
        for group in ev.of_type(ASG):
            sizes[_generates(group.inputs)] += int(group.inputs["desiredCapacity"])
        assert _quantity(estimate, "load generator instances") == sizes[True], stack.stack
        assert _quantity(estimate, "instances (desired size)") == sizes[False], stack.stack


def test_the_generator_volume_is_the_programs(shipped: list[tuple[StackFile, Evaluation]]) -> None:
    sizes = {
        int(mapping["ebs"]["volumeSize"])
        for _, ev in shipped
        for r in ev.of_type("aws:ec2/launchTemplate:LaunchTemplate")
        if _generates(r.inputs)
        for mapping in r.inputs["blockDeviceMappings"]
    }
    assert sizes == {GENERATOR_VOLUME_GB}


def test_perf_two_hours_three_workers_lists_generators_endpoints_and_ipv4() -> None:
    perf = next(f for f in load_all() if f.stack == "perf").environment
    assert perf is not None
    table = load_prices()
    estimate = estimate_environment("perf", perf, Decimal(2), table, workers=3)
    lines = {line.item: line for line in estimate.lines}

    generators = lines["load generator instances"]
    price = table.instance_price(perf.region, perf.load_generator.instance_type)
    assert generators.quantity == 4 and generators.total == 4 * 2 * price  # 3 workers + master
    assert "3 worker(s) + 1 master" in generators.note
    endpoints = lines["VPC endpoint hours"]
    assert endpoints.quantity == len(perf.interface_endpoints) * perf.network.az_count
    assert "NAT gateway hours" not in lines  # isolated: endpoints instead of NAT
    assert lines["public IPv4 addresses"].quantity == 0
    assert lines["VPC endpoint data"].basis == ASSUMED
    assert lines["load balancer data processed"].basis == ASSUMED
    cluster = lines["Kubernetes cluster"]
    assert cluster.basis == NOT_INCLUDED and not cluster.in_total and cluster.total == 0
    assert estimate.notes and "used, not created" in estimate.notes[0]


def test_dev_pays_nat_and_public_addresses() -> None:
    dev = next(f for f in load_all() if f.stack == "dev").environment
    assert dev is not None
    estimate = estimate_environment("dev", dev, Decimal(1), load_prices())
    ipv4 = next(line for line in estimate.lines if line.item == "public IPv4 addresses")
    assert ipv4.quantity == dev.network.nat_gateways + dev.network.az_count
    assert ipv4.per_hour == ipv4.quantity * Decimal("0.005")
    assert _quantity(estimate, "NAT gateway hours") == dev.network.nat_gateways > 0
    assert _quantity(estimate, "VPC endpoint hours") == 0
