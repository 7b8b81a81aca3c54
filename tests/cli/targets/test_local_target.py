"""The shipped perf and cost stacks realized in one emulator shared by this module's tests.

What issue 4 asks to see: while a stack is up the real AWS CLI shows its resources with their
`perfenv:stack` tag; after destroy the tagging API lists nothing but terminated instances, and
neither `autoscaling describe-tags` nor `ec2 describe-launch-templates` shows the stack.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from perfenv.cli.errors import BadInput, InfraError
from perfenv.cli.project import home
from perfenv.cli.targets.local import LocalTarget, emulator, fleet, state
from perfenv.cli.targets.local.state import StackState
from perfenv.infra.config import StackFile, load_stack_file
from tests.conftest import STACKS_DIR

pytestmark = pytest.mark.slow
AWS = Path(sys.executable).with_name("aws")
ACCOUNT = "123456789012"  # moto's


@pytest.fixture(scope="module")
def emulator_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One emulator for the module (start-up and moto's imports cost seconds); stopped by pid."""
    shared = tmp_path_factory.mktemp("emulator-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PERFENV_HOME", str(shared))
        emulator.ensure_running()
        pid = emulator.status()["pid"]
    yield shared
    fleet.terminate(pid)


@pytest.fixture
def endpoint(emulator_home: Path) -> str:
    """This test's PERFENV_HOME adopts the shared emulator."""
    (home() / "local").mkdir(parents=True, exist_ok=True)
    shutil.copy(emulator_home / "local" / "emulator.json", home() / "local" / "emulator.json")
    url = emulator.endpoint()
    assert url is not None
    return url


def aws(endpoint: str, *args: str, region: str = "eu-west-1") -> Any:
    out = subprocess.run(
        [str(AWS), "--endpoint-url", endpoint, "--region", region, "--output", "json", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return json.loads(out) if out.strip() else {}


def client(service: str, endpoint: str, region: str = "eu-west-1") -> Any:
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name=region)


def perf_config(**app: Any) -> StackFile:
    config = load_stack_file(STACKS_DIR / "Pulumi.perf.yaml")
    if not app:
        return config
    assert config.environment is not None
    env = config.environment.model_copy(
        update={"app": config.environment.app.model_copy(update=app)}
    )
    return config.model_copy(update={"environment": env})


def tags_for(stack: str) -> dict[str, str]:
    return {
        "perfenv:project": "perfenv",
        "perfenv:environment": "perf",
        "perfenv:stack": stack,
        "perfenv:release": "1.0.0",
        "perfenv:owner": "tests",
        "perfenv:expires-at": "2099-01-01T00:00:00+00:00",
    }


def stack_tag(tags: list[dict[str, str]], stack: str) -> bool:
    return {"Key": "perfenv:stack", "Value": stack} in [
        {"Key": t["Key"], "Value": t["Value"]} for t in tags
    ]


def test_perf_stack_is_real_in_the_emulator_and_destroy_leaves_nothing(endpoint: str) -> None:
    target, stack, lines = LocalTarget(), "perf-1-0-0-aaaaaa", []
    result = target.up(stack, perf_config(), tags_for(stack), lines.append)

    # The app fleet answers on service_url; Kubernetes objects are reported as simulated.
    url = result.outputs["service_url"]
    with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
        assert response.status == 200
    assert "kubernetes:apps/v1:Deployment perf-k8s-app" in result.simulated
    assert not [s for s in result.simulated if s.startswith("aws:")]
    assert any(line.startswith("created aws:ec2/vpc:Vpc") for line in lines)

    # The real AWS CLI sees the stack, tagged; dependent resources hold the emulator's ids.
    vpcs = aws(
        endpoint, "ec2", "describe-vpcs", "--filters", f"Name=tag:perfenv:stack,Values={stack}"
    )["Vpcs"]
    assert [v["VpcId"] for v in vpcs] == [result.outputs["vpc_id"]]
    groups = aws(endpoint, "autoscaling", "describe-auto-scaling-groups")["AutoScalingGroups"]
    group = next(g for g in groups if g["AutoScalingGroupName"] == result.outputs["asg_name"])
    assert stack_tag(group["Tags"], stack) and len(group["Instances"]) == 2
    lbs = aws(endpoint, "elbv2", "describe-load-balancers")["LoadBalancers"]
    lb = next(b for b in lbs if b["LoadBalancerArn"] == result.outputs["alb_arn"])
    assert lb["VpcId"] == result.outputs["vpc_id"]
    lb_tags = client("elbv2", endpoint).describe_tags(ResourceArns=[lb["LoadBalancerArn"]])
    assert stack_tag(lb_tags["TagDescriptions"][0]["Tags"], stack)
    alarms = aws(endpoint, "cloudwatch", "describe-alarms")["MetricAlarms"]
    ours = [a for a in alarms if a["AlarmActions"] == [result.outputs["alarm_topic_arn"]]]
    assert len(ours) == 4 and all(a["AlarmName"].startswith("perf-mon-") for a in ours)

    # Isolation holds in the emulator: no internet gateway in the VPC, no route to anywhere, the
    # endpoints instead, an internal balancer; the generator's groups in the private subnets.
    in_vpc = f"Name=attachment.vpc-id,Values={result.outputs['vpc_id']}"
    assert (
        aws(endpoint, "ec2", "describe-internet-gateways", "--filters", in_vpc)["InternetGateways"]
        == []
    )
    vpc_filter = f"Name=vpc-id,Values={result.outputs['vpc_id']}"
    tables = aws(endpoint, "ec2", "describe-route-tables", "--filters", vpc_filter)["RouteTables"]
    routes = [r for t in tables for r in t["Routes"]]
    assert routes and not [r for r in routes if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    assert not [r for r in routes if r.get("DestinationIpv6CidrBlock") == "::/0"]
    assert (
        aws(endpoint, "ec2", "describe-nat-gateways", "--filter", vpc_filter)["NatGateways"] == []
    )
    endpoints = aws(endpoint, "ec2", "describe-vpc-endpoints", "--filters", vpc_filter)
    services = {e["ServiceName"].rsplit(".", 1)[-1] for e in endpoints["VpcEndpoints"]}
    assert services == {"s3", "ssm", "ssmmessages", "ec2messages", "logs", "monitoring", "sts"}
    assert lb["Scheme"] == "internal"
    generators = [g for g in groups if g["AutoScalingGroupName"].startswith("perf-lg-")]
    assert sorted(g["DesiredCapacity"] for g in generators) == [1, 1]

    # An existing stack cannot be brought up again.
    with pytest.raises(BadInput, match="already up"):
        target.up(stack, perf_config(), tags_for(stack), lines.append)
    assert target.leftovers(stack)  # everything is still there

    recorded = state.load(stack)
    pids = fleet.marked(stack)
    assert len(pids) == 4  # the controller, the balancer and two app processes
    subnets = [r.id for r in recorded.resources if r.type == "aws:ec2/subnet:Subnet"]
    target.destroy(stack, lines.append)
    assert target.leftovers(stack) == []
    interfaces = client("ec2", endpoint).describe_network_interfaces(
        Filters=[{"Name": "subnet-id", "Values": subnets}]
    )["NetworkInterfaces"]
    assert interfaces == []  # instance and NAT gateway interfaces went with them
    assert all(fleet.start_time(pid) is None for pid in pids)
    tagged = aws(
        endpoint,
        "resourcegroupstaggingapi",
        "get-resources",
        "--tag-filters",
        f"Key=perfenv:stack,Values={stack}",
    )["ResourceTagMappingList"]
    assert tagged and all(":instance/" in t["ResourceARN"] for t in tagged), [
        t["ResourceARN"] for t in tagged
    ]
    instances = client("ec2", endpoint).describe_instances(
        InstanceIds=[t["ResourceARN"].rsplit("/", 1)[1] for t in tagged]
    )["Reservations"]
    assert {i["State"]["Name"] for r in instances for i in r["Instances"]} == {"terminated"}
    asg_tags = aws(
        endpoint,
        "autoscaling",
        "describe-tags",
        "--filters",
        "Name=key,Values=perfenv:stack",
        f"Name=value,Values={stack}",
    )["Tags"]
    assert asg_tags == []
    templates = aws(
        endpoint,
        "ec2",
        "describe-launch-templates",
        "--filters",
        f"Name=tag:perfenv:stack,Values={stack}",
    )["LaunchTemplates"]
    assert templates == []

    target.destroy(stack, lines.append)  # idempotent
    target.remove(stack)
    assert stack not in [s.name for s in target.list_stacks()]


def test_an_interrupted_up_stays_recorded_and_destroy_finishes_a_partial_destroy(
    endpoint: str,
) -> None:
    target, stack, created = LocalTarget(), "perf-interrupted", []

    def interrupt_after_ten(line: str) -> None:
        created.extend([line] if line.startswith("created ") else [])
        subnets = [c for c in created if c.startswith("created aws:ec2/subnet:Subnet")]
        if len(created) >= 10 and subnets:
            raise KeyboardInterrupt  # what the CLI's SIGINT handling raises mid-step

    with pytest.raises(KeyboardInterrupt):
        target.up(stack, perf_config(), tags_for(stack), interrupt_after_ten)
    recorded = state.load(stack)
    realized = [r for r in recorded.resources if not (r.provider or r.simulated)]
    assert recorded.status == "failed" and len(realized) >= 10
    assert fleet.marked(stack) == []  # stopped before the fleet ever started
    assert target.leftovers(stack)

    # Someone deleted the VPC's first subnet by hand: destroy treats it as already gone.
    subnet = next(r for r in realized if r.type == "aws:ec2/subnet:Subnet")
    client("ec2", endpoint).delete_subnet(SubnetId=subnet.id)
    target.destroy(stack, lambda line: None)
    assert target.leftovers(stack) == []
    assert all(r.deleted for r in state.load(stack).resources if not (r.provider or r.simulated))
    target.remove(stack)


def test_cost_stack_budgets_are_real_and_anomaly_detection_is_simulated(endpoint: str) -> None:
    target = LocalTarget()
    config = load_stack_file(STACKS_DIR / "Pulumi.cost.yaml")
    result = target.up("cost", config, {"perfenv:stack": "cost"}, lambda line: None)
    budgets = client("budgets", endpoint, "us-east-1")
    try:
        names = [b["BudgetName"] for b in budgets.describe_budgets(AccountId=ACCOUNT)["Budgets"]]
        assert sorted(names) == sorted(result.outputs["budget_names"].values())
        alarms = client("cloudwatch", endpoint, "us-east-1").describe_alarms()["MetricAlarms"]
        assert [a["AlarmArn"] for a in alarms] == [result.outputs["billing_alarm_arn"]]
        assert any(s.startswith("aws:costexplorer/anomalyMonitor") for s in result.simulated)
    finally:
        target.destroy("cost", lambda line: None)
    assert target.leftovers("cost") == []
    assert budgets.describe_budgets(AccountId=ACCOUNT).get("Budgets", []) == []


UP_IN_A_CHILD = """
import sys
import time
from perfenv.cli.targets.local import LocalTarget
from perfenv.cli.project import stack_file
from perfenv.infra.config import load_stack_file
LocalTarget().up(sys.argv[1], load_stack_file(stack_file("perf")), {}, print)
"""


def test_a_cli_killed_mid_up_leaves_a_stack_that_destroy_cleans(endpoint: str) -> None:
    target, stack = LocalTarget(), "perf-killed"
    cli = subprocess.Popen(
        [sys.executable, "-c", UP_IN_A_CHILD, stack],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if state.exists(stack) and len(_realized(stack)) >= 8:
                break
            time.sleep(0.05)
        cli.kill()  # SIGKILL: no chance to clean up
        cli.wait(timeout=10)
    finally:
        fleet.terminate(cli.pid)
    worker = state.load(stack).worker
    assert worker is not None and len(_realized(stack)) >= 8
    target.destroy(stack, lambda line: None)  # stops the orphaned worker if it still runs
    assert not fleet.alive(worker)
    assert target.leftovers(stack) == []
    target.remove(stack)


def _realized(stack: str) -> list[Any]:
    try:
        resources = state.load(stack).resources
    except InfraError:  # being written
        return []
    return [r for r in resources if not (r.provider or r.simulated)]


def test_mocks_pass_emulator_ids_on_and_refuse_names_aws_would(endpoint: str) -> None:
    import pulumi

    from perfenv.cli.targets.local.mocks import EmulatorMocks, ResourceFailed

    records: list[Any] = []
    mocks = EmulatorMocks(endpoint, "eu-west-1", {"perfenv:stack": "mocks"}, records.append)
    pulumi.runtime.set_mocks(mocks, project="perfenv", stack="mocks", preview=False)
    import pulumi_aws as aws

    seen: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[misc]
    def program() -> Any:
        vpc = aws.ec2.Vpc("v", cidr_block="10.99.0.0/16")
        subnets = [
            aws.ec2.Subnet(
                f"s{i}",
                vpc_id=vpc.id,
                cidr_block=f"10.99.{i}.0/24",
                availability_zone=f"eu-west-1{zone}",
            )
            for i, zone in enumerate("ab")
        ]
        lb = aws.lb.LoadBalancer(
            "a-logical-name-longer-than-thirty-two", subnets=[s.id for s in subnets]
        )
        outputs = pulumi.Output.all(vpc.id, subnets[0].vpc_id, lb.name)
        return outputs.apply(lambda v: seen.update(vpc=v[0], subnet_vpc=v[1], lb_name=v[2]))

    program()
    described = client("ec2", endpoint).describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [seen["vpc"]]}]
    )["Subnets"]
    assert len(described) == 2 and seen["subnet_vpc"] == seen["vpc"]
    assert len(seen["lb_name"]) == 32 and seen["lb_name"].startswith("a-logical-name-longer-")

    @pulumi.runtime.test  # type: ignore[misc]
    def too_long() -> Any:
        return aws.lb.LoadBalancer("x", name="y" * 33).arn

    with pytest.raises(ResourceFailed, match="33 characters; AWS allows at most 32"):
        too_long()
    # What the program made is deleted like any stack's resources.
    state.save(StackState(stack="mocks", endpoint=endpoint, resources=records))
    LocalTarget().destroy("mocks", lambda line: None)
    assert LocalTarget().leftovers("mocks") == []
