"""The policy rules: each catches what it is for, the shipped stacks break none, and the pack
(with a stand-in `pulumi_policy`: the real one blocks serving) lists every rule."""

from __future__ import annotations

import ast
import json
import runpy
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from perfenv.cli.program.evaluate import Evaluation
from perfenv.cli.program.policies import as_policy_resources, budget_coverage, violations
from perfenv.infra.config import StackFile
from perfenv.infra.tags import NETWORK_KEY, ROLE_KEY, TAG_KEYS, tag_key
from perfenv.policy import rules
from perfenv.policy.rules import Resource

POLICY_DIR = Path(rules.__file__).parent
TAGS = dict.fromkeys(rules.REQUIRED_TAGS, "x")
PROVIDER = {"defaultTags": json.dumps({"tags": TAGS})}  # as a provider's inputs arrive


def res(
    type_: str, name: str = "r", provider: dict[str, Any] | None = None, **props: Any
) -> Resource:
    return Resource(
        type=type_,
        name=name,
        urn=f"urn:{name}",
        props=props,
        provider_props=PROVIDER if provider is None else provider,
    )


def names(found: list[rules.Violation]) -> set[tuple[str, str]]:
    return {(v.rule, v.resource.split(" ")[0]) for v in found}


def test_the_shipped_stacks_break_no_rule(shipped: dict[str, Evaluation]) -> None:
    for name, evaluation in shipped.items():
        assert violations(evaluation) == [], name


def test_public_ingress_only_to_a_load_balancer() -> None:
    world = [{"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "cidrBlocks": ["0.0.0.0/0"]}]
    found = rules.evaluate(
        [
            res(rules.SECURITY_GROUP, "app", ingress=world, tags={ROLE_KEY: "app"}),
            res(rules.SECURITY_GROUP, "lb", ingress=world, tags={ROLE_KEY: "load-balancer"}),
            res(rules.SECURITY_GROUP, "v6", ingress=[{"ipv6CidrBlocks": ["::/0"]}]),
        ],
        [rules.RULES[0]],
    )
    assert names(found) == {("no-public-ingress-to-app", "app"), ("no-public-ingress-to-app", "v6")}


def test_an_isolated_stack_has_no_way_out() -> None:
    vpc = res("aws:ec2/vpc:Vpc", "vpc", tags={NETWORK_KEY: "isolated"})
    leaky = [
        res("aws:ec2/natGateway:NatGateway", "nat"),
        res("aws:ec2/routeTable:RouteTable", "rt", routes=[{"cidrBlock": "0.0.0.0/0"}]),
        res("aws:ec2/route:Route", "r6", destinationIpv6CidrBlock="::/0"),
        res("aws:lb/loadBalancer:LoadBalancer", "alb", internal=False),
    ]
    check = [r for r in rules.RULES if r.name == "isolated-no-route-out"]
    assert {n for _, n in names(rules.evaluate([vpc, *leaky], check))} == {"nat", "rt", "r6", "alb"}
    facing = res("aws:ec2/vpc:Vpc", "vpc", tags={NETWORK_KEY: "internet-facing"})
    assert rules.evaluate([facing, *leaky], check) == []


def test_tags_imdsv2_instance_types_and_namespaces() -> None:
    bare = res("aws:sns/topic:Topic", "topic", provider={})
    group = res(
        "aws:autoscaling/group:Group",
        "asg",
        tags=[{"key": "perfenv:project", "value": "p", "propagateAtLaunch": True}],
    )
    template = res(
        rules.LAUNCH_TEMPLATE,
        "lt",
        instanceType="p4d.24xlarge",
        metadataOptions={"httpTokens": "optional"},
        tagSpecifications=[{"resourceType": "instance", "tags": TAGS}],
    )
    namespace = res(rules.NAMESPACE, "ns", metadata={"name": "team-a"})
    found = rules.evaluate([bare, group, template, namespace])
    assert names(found) == {
        ("required-tags", "topic"),
        ("required-tags", "asg"),
        ("required-tags", "lt"),  # its volumes carry no tags
        ("imdsv2-required", "lt"),
        ("allowed-instance-types", "lt"),
        ("kubernetes-namespaces-fenced", "ns"),
    }
    assert not next(v for v in found if v.rule == "allowed-instance-types").mandatory
    fences = {v.message for v in found if v.rule == "kubernetes-namespaces-fenced"}
    assert fences == {"no ResourceQuota", "no LimitRange", "no default-deny ingress NetworkPolicy"}


def test_every_environment_has_a_budget(
    shipped: dict[str, Evaluation], shipped_files: dict[str, StackFile]
) -> None:
    envs = [f for f in shipped_files.values() if f.environment is not None]
    assert budget_coverage(shipped["cost"], envs) == []
    base = envs[0]
    assert base.environment is not None
    qa = base.model_copy(update={"environment": base.environment.model_copy(update={"name": "qa"})})
    (missing,) = budget_coverage(shipped["cost"], [*envs, qa])
    assert missing.rule == "every-environment-has-a-budget" and "qa" in missing.message


def test_the_rules_module_needs_only_the_standard_library() -> None:
    tree = ast.parse((POLICY_DIR / "rules.py").read_text())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported
    # what the rules require is what the program sets, and the tag names are the program's
    program = {tag_key(k) for k in TAG_KEYS if k != "expires-at"}
    assert set(rules.REQUIRED_TAGS) <= program
    assert (rules.ROLE_KEY, rules.NETWORK_KEY) == (ROLE_KEY, NETWORK_KEY)


def test_the_pack_lists_every_rule_with_its_enforcement(monkeypatch: pytest.MonkeyPatch) -> None:
    made: dict[str, Any] = {}
    fake = types.ModuleType("pulumi_policy")

    class Policy:
        def __init__(self, **kwargs: Any) -> None:
            self.__dict__.update(kwargs)

    fake.EnforcementLevel = types.SimpleNamespace(MANDATORY="mandatory", ADVISORY="advisory")  # type: ignore[attr-defined]
    fake.StackValidationPolicy = Policy  # type: ignore[attr-defined]
    fake.PolicyPack = lambda **kwargs: made.update(kwargs)  # type: ignore[attr-defined]
    fake.ReportViolation = fake.StackValidationArgs = object  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pulumi_policy", fake)
    runpy.run_path(str(POLICY_DIR / "__main__.py"), run_name="__main__")

    by_name = {p.name: p for p in made["policies"]}
    assert list(by_name) == [r.name for r in rules.RULES]
    for rule in rules.RULES:
        level = "mandatory" if rule.mandatory else "advisory"
        assert by_name[rule.name].enforcement_level == level
    # the pack's adapter hands PolicyResource-shaped objects to the same functions
    sg = types.SimpleNamespace(
        resource_type=rules.SECURITY_GROUP,
        name="app",
        urn="urn:app",
        props={"ingress": [{"cidrBlocks": ["0.0.0.0/0"]}]},
        provider=types.SimpleNamespace(props=PROVIDER),
    )
    reported: list[tuple[str, str | None]] = []
    by_name["no-public-ingress-to-app"].validate(
        types.SimpleNamespace(resources=[sg]), lambda m, urn=None: reported.append((m, urn))
    )
    assert reported == [("ingress from 0.0.0.0/0 on None None-None", "urn:app")]
    assert (POLICY_DIR / "PulumiPolicy.yaml").is_file()
    assert "pulumi-policy" in (POLICY_DIR / "requirements.txt").read_text()


def test_resources_as_the_pack_sees_them(shipped: dict[str, Evaluation]) -> None:
    seen = as_policy_resources(shipped["perf"])
    (vpc,) = [r for r in seen if r.type == "aws:ec2/vpc:Vpc"]
    assert vpc.props["tags"][NETWORK_KEY] == "isolated" and vpc.provider_props["region"]
    assert not [r for r in seen if r.type.startswith("pulumi:providers:")]
