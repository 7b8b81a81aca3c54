"""Rules that hold for every shipped stack file, checked on what the program registers."""

from __future__ import annotations

import base64
import ipaddress

from perfenv.cli.program.evaluate import Evaluation
from perfenv.cli.program.fingerprint import fingerprint
from perfenv.cli.program.parity import compare
from perfenv.infra.config import StackFile
from perfenv.infra.tags import TAG_KEYS, tag_key
from tests.infra.conftest import provider_tags

ENVIRONMENTS = ("dev", "staging", "perf")
NEVER_TAGGED = {"aws:costexplorer/costAllocationTag:CostAllocationTag"}
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"


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


def test_no_environment_routes_to_another(
    shipped: dict[str, Evaluation], shipped_files: dict[str, StackFile]
) -> None:
    for name in ENVIRONMENTS:
        ev = shipped[name]
        types = {r.type.lower() for r in ev.resources}
        assert not any(
            "peering" in t or "transitgateway" in t or "vpnconnection" in t for t in types
        )
        others = [
            ipaddress.IPv4Network(f.environment.network.cidr)
            for f in shipped_files.values()
            if f.environment is not None and f.stack != name
        ]
        for table in ev.of_type("aws:ec2/routeTable:RouteTable"):
            for route in table.inputs.get("routes") or []:
                assert not route.get("vpcPeeringConnectionId") and not route.get("transitGatewayId")
                dest = ipaddress.IPv4Network(route["cidrBlock"])
                assert dest.prefixlen == 0 or not any(dest.overlaps(o) for o in others)
        assert ev.of_type("aws:ec2/route:Route") == []


WAYS_OUT = (
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/eip:Eip",
)


def test_isolated_environments_have_no_route_out(shipped: dict[str, Evaluation]) -> None:
    for name in ("perf", "staging"):
        ev = shipped[name]
        assert not [r.name for r in ev.resources if r.type in WAYS_OUT], name
        for table in ev.of_type("aws:ec2/routeTable:RouteTable"):
            for route in table.inputs.get("routes") or []:
                assert route.get("cidrBlock") not in ("0.0.0.0/0",), (name, table.name)
                assert route.get("ipv6CidrBlock") != "::/0", (name, table.name)
        (alb,) = ev.of_type("aws:lb/loadBalancer:LoadBalancer")
        assert alb.inputs["internal"] is True
        services = {e.inputs["serviceName"].rsplit(".", 1)[-1] for e in ev.of_type(ENDPOINT)}
        assert {"s3", "ssm", "ssmmessages", "ec2messages", "logs", "monitoring", "sts"} <= services
        for sg in ev.of_type("aws:ec2/securityGroup:SecurityGroup"):
            for rule in sg.inputs.get("egress") or []:
                assert "0.0.0.0/0" not in (rule.get("cidrBlocks") or []), (name, sg.name)


def test_dev_keeps_its_internet_facing_shape(shipped: dict[str, Evaluation]) -> None:
    dev = shipped["dev"]
    assert len(dev.of_type("aws:ec2/internetGateway:InternetGateway")) == 1
    assert len(dev.of_type("aws:ec2/natGateway:NatGateway")) == 1
    (alb,) = dev.of_type("aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["internal"] is False
    assert dev.of_type(ENDPOINT) == []


def test_instances_boot_the_configured_image_and_install_the_artifact(
    shipped: dict[str, Evaluation], shipped_files: dict[str, StackFile]
) -> None:
    for name in ENVIRONMENTS:
        env = shipped_files[name].environment
        assert env is not None
        for lt in shipped[name].of_type("aws:ec2/launchTemplate:LaunchTemplate"):
            assert lt.inputs["imageId"].startswith("ami-")
            assert env.app.machine_image in lt.inputs["description"]
            script = base64.b64decode(lt.inputs["userData"]).decode()
            assert 'aws s3 cp "$ARTIFACT"' in script and "perfenv-runtime-" in script
            assert lt.inputs["iamInstanceProfile"]["arn"]
        (fleet_lt,) = [
            lt
            for lt in shipped[name].of_type("aws:ec2/launchTemplate:LaunchTemplate")
            if lt.name.endswith("-fleet-lt")
        ]
        script = base64.b64decode(fleet_lt.inputs["userData"]).decode()
        assert "systemctl enable --now perfenv-app" in script
        assert f"http://127.0.0.1:{env.app.port}{env.app.health_path}" in script


def test_the_load_generator_runs_in_the_private_subnets(shipped: dict[str, Evaluation]) -> None:
    for name in ENVIRONMENTS:
        ev = shipped[name]
        private = {s.id for s in ev.of_type("aws:ec2/subnet:Subnet") if "-private-" in s.name}
        groups = {g.name: g for g in ev.of_type("aws:autoscaling/group:Group")}
        for suffix in ("-lg-master", "-lg-workers"):
            (group,) = [g for n, g in groups.items() if n.endswith(suffix)]
            assert set(group.inputs["vpcZoneIdentifiers"]) == private, (name, suffix)


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
        (asg,) = [
            g for g in shipped[name].of_type("aws:autoscaling/group:Group") if "-fleet-" in g.name
        ]
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
    assert prints["perf"] == staging
    # dev differs in isolation only: parity explains every difference by it
    report = compare(shipped_files["staging"], shipped_files["dev"])
    assert report.ok and report.allowed
    assert all(d.aspect.startswith("isolation (allowed)") for d in report.allowed)


def test_every_environment_has_at_least_forty_resources(shipped: dict[str, Evaluation]) -> None:
    for name in ENVIRONMENTS:
        assert len(shipped[name].resources) >= 40
