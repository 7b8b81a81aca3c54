"""Rules that hold for every shipped stack file, checked on what the program registers."""

from __future__ import annotations

import ipaddress

from perfenv.cli.program.evaluate import Evaluation
from perfenv.cli.program.fingerprint import fingerprint
from perfenv.infra.config import StackFile
from perfenv.infra.tags import TAG_KEYS, tag_key
from tests.infra.conftest import provider_tags

ENVIRONMENTS = ("dev", "staging", "perf")
NEVER_TAGGED = {"aws:costexplorer/costAllocationTag:CostAllocationTag"}


def test_no_security_group_opens_the_app_port_to_the_world(
    shipped: dict[str, Evaluation], shipped_files: dict[str, StackFile]
) -> None:
    for name in ENVIRONMENTS:
        env = shipped_files[name].environment
        assert env is not None
        for sg in shipped[name].of_type("aws:ec2/securityGroup:SecurityGroup"):
            for rule in sg.inputs.get("ingress") or []:
                covers_app = rule["fromPort"] <= env.app.port <= rule["toPort"] or rule[
                    "protocol"
                ] in ("-1", "all")
                if covers_app:
                    assert "0.0.0.0/0" not in (rule.get("cidrBlocks") or []), (name, sg.name)


def test_perf_vpc_is_isolated(
    shipped: dict[str, Evaluation], shipped_files: dict[str, StackFile]
) -> None:
    perf = shipped["perf"]
    types = {r.type.lower() for r in perf.resources}
    assert not any("peering" in t or "transitgateway" in t or "vpnconnection" in t for t in types)
    others = [
        ipaddress.IPv4Network(f.environment.network.cidr)
        for f in shipped_files.values()
        if f.environment is not None and f.stack != "perf"
    ]
    for table in perf.of_type("aws:ec2/routeTable:RouteTable"):
        for route in table.inputs.get("routes") or []:
            assert not route.get("vpcPeeringConnectionId") and not route.get("transitGatewayId")
            dest = ipaddress.IPv4Network(route["cidrBlock"])
            assert dest.prefixlen == 0 or not any(dest.overlaps(o) for o in others)
    assert perf.of_type("aws:ec2/route:Route") == []


def test_imdsv2_and_encryption_everywhere(shipped: dict[str, Evaluation]) -> None:
    for name in ENVIRONMENTS:
        templates = shipped[name].of_type("aws:ec2/launchTemplate:LaunchTemplate")
        assert templates
        for lt in templates:
            assert lt.inputs["metadataOptions"]["httpTokens"] == "required"
            assert all(b["ebs"]["encrypted"] == "true" for b in lt.inputs["blockDeviceMappings"])
            assert all(
                n["associatePublicIpAddress"] == "false" for n in lt.inputs["networkInterfaces"]
            )


def test_every_taggable_aws_resource_is_tagged(shipped: dict[str, Evaluation]) -> None:
    required = {tag_key(k) for k in TAG_KEYS if k != "expires-at"}
    for name, ev in shipped.items():
        for r in ev.resources:
            if not r.custom or not r.type.startswith("aws:") or r.type in NEVER_TAGGED:
                continue
            assert required <= set(provider_tags(ev, r)), (name, r.name)
            assert provider_tags(ev, r)["perfenv:environment"] == name
        for asg in ev.of_type("aws:autoscaling/group:Group"):
            keys = {t["key"] for t in asg.inputs["tags"] if t["propagateAtLaunch"]}
            assert required <= keys
        for lt in ev.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
            for spec in lt.inputs["tagSpecifications"]:
                assert required <= set(spec["tags"])


def test_autoscaling_bounds_match_config(
    shipped: dict[str, Evaluation], shipped_files: dict[str, StackFile]
) -> None:
    for name in ENVIRONMENTS:
        fleet = shipped_files[name].environment.fleet  # type: ignore[union-attr]
        (asg,) = shipped[name].of_type("aws:autoscaling/group:Group")
        low, want, high = (
            asg.inputs["minSize"],
            asg.inputs["desiredCapacity"],
            asg.inputs["maxSize"],
        )
        assert (low, want, high) == (fleet.min, fleet.desired, fleet.max)
        assert low <= want <= high


def test_every_container_is_limited(shipped: dict[str, Evaluation]) -> None:
    for name in ENVIRONMENTS:
        ev = shipped[name]
        for deployment in ev.of_type("kubernetes:apps/v1:Deployment"):
            for c in deployment.inputs["spec"]["template"]["spec"]["containers"]:
                assert {"cpu", "memory"} <= set(c["resources"]["limits"]), (name, c["name"])
        (limits,) = ev.of_type("kubernetes:core/v1:LimitRange")
        assert {"cpu", "memory"} <= set(limits.inputs["spec"]["limits"][0]["default"])


def test_budgets_only_in_the_cost_stack(shipped: dict[str, Evaluation]) -> None:
    for name in ENVIRONMENTS:
        assert shipped[name].of_type("aws:budgets/budget:Budget") == []
    assert len(shipped["cost"].of_type("aws:budgets/budget:Budget")) == len(ENVIRONMENTS)


def test_environments_share_components_types_and_rules(
    shipped: dict[str, Evaluation], shipped_files: dict[str, StackFile]
) -> None:
    prints = {
        name: fingerprint(shipped[name].resources, shipped_files[name].environment)  # type: ignore[arg-type]
        for name in ENVIRONMENTS
    }
    staging = prints["staging"]
    assert len(staging.rules) > 20
    for name in ("dev", "perf"):
        assert prints[name].components == staging.components, name
        assert prints[name].types == staging.types, name
        assert prints[name].rules == staging.rules, name


def test_every_environment_has_at_least_forty_resources(shipped: dict[str, Evaluation]) -> None:
    for name in ENVIRONMENTS:
        assert len(shipped[name].resources) >= 40
