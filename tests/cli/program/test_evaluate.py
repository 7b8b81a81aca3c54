from __future__ import annotations

from pathlib import Path
from typing import Any

from pulumi.runtime import Mocks
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from perfenv.cli.program.evaluate import PreviewMocks, evaluate
from perfenv.infra.config import load_stack_file

STACKS = Path(__file__).resolve().parents[3] / "stacks"


class CountingMocks(Mocks):
    """The caller's mocks: evaluate must call these, not its own."""

    def __init__(self) -> None:
        self.inner = PreviewMocks()
        self.created: list[str] = []
        self.calls: list[str] = []

    def call(self, args: MockCallArgs) -> Any:
        self.calls.append(args.token)
        return self.inner.call(args)

    def new_resource(self, args: MockResourceArgs) -> Any:
        self.created.append(args.typ)
        if args.typ == "aws:ec2/vpc:Vpc":
            return "vpc-from-caller", {**args.inputs, "arn": "arn:vpc"}
        return self.inner.new_resource(args)


def test_callers_mocks_are_the_ones_called() -> None:
    mocks = CountingMocks()
    ev = evaluate(load_stack_file(STACKS / "Pulumi.dev.yaml"), "dev", mocks)
    assert "aws:index/getAvailabilityZones:getAvailabilityZones" in mocks.calls
    assert len(mocks.created) == len(ev.resources)
    assert ev.outputs["vpc_id"] == "vpc-from-caller"
    (vpc,) = ev.of_type("aws:ec2/vpc:Vpc")
    assert vpc.id == "vpc-from-caller" and vpc.state["arn"] == "arn:vpc"
    subnets = ev.of_type("aws:ec2/subnet:Subnet")
    assert all(s.inputs["vpcId"] == "vpc-from-caller" for s in subnets)
    assert all(vpc.urn in s.dependencies for s in subnets)


def test_records_parent_provider_and_dependencies() -> None:
    ev = evaluate(load_stack_file(STACKS / "Pulumi.perf.yaml"), "perf")
    by_urn = ev.by_urn()
    (asg,) = [g for g in ev.of_type("aws:autoscaling/group:Group") if g.name == "perf-fleet-asg"]
    assert asg.parent is not None and by_urn[asg.parent].type == "perfenv:infra:Fleet"
    assert asg.provider is not None and asg.provider.split("::")[-2] == "perf-aws"
    dep_types = {by_urn[d].type for d in asg.dependencies}
    assert {"aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/subnet:Subnet"} <= dep_types
    assert asg.custom is True and by_urn[asg.parent].custom is False


def test_several_stacks_in_one_process() -> None:
    first = evaluate(load_stack_file(STACKS / "Pulumi.staging.yaml"), "staging")
    cost = evaluate(load_stack_file(STACKS / "Pulumi.cost.yaml"), "cost")
    again = evaluate(load_stack_file(STACKS / "Pulumi.staging.yaml"), "staging")
    assert all(r.urn.startswith("urn:pulumi:staging::perfenv::") for r in first.resources)
    assert all(r.urn.startswith("urn:pulumi:cost::perfenv::") for r in cost.resources)
    assert [r.urn for r in again.resources if r.custom] and len(again.resources) == len(
        first.resources
    )
    assert len(cost.of_type("aws:budgets/budget:Budget")) == 3
