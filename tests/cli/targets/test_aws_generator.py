"""The aws target drives the load generator without a network path into the VPC: the plan
(and locustfile) to the state store's exchange prefix in S3, Locust's master and workers
started through SSM Run Command, polled with get-command-invocation, the master's records back
through S3 and merged as the local path merges them. Against moto (S3, EC2, Auto Scaling, SSM)
and fake instances (tests/fakes/ssm.py)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from perfenv.cli.engine import run_plan
from perfenv.cli.engine.remote import MASTER_PORT, POLL_S, PYTHON
from perfenv.cli.errors import BadInput, InfraError
from perfenv.cli.lifecycle import Deps, load_template, run_tags, with_run
from perfenv.cli.main import app
from perfenv.cli.targets.aws import AwsTarget
from perfenv.cli.verdict.abort import Breach, BudgetBreached
from perfenv.cli.verdict.budgets import parse_budget
from perfenv.cli.verdict.measurement import LoadPlan, RequestSpec
from tests.fakes import kube
from tests.fakes.automation import FakeAutomation, FakeClients
from tests.fakes.ssm import FakeInstances

REGION = "eu-west-1"  # the perf template's
BUCKET = "perfenv-state"
STATE_URL = f"s3://{BUCKET}/ci"
STACK = "perf-1-4-2-abc123"
OUTPUTS = {
    "service_url": "http://internal-perf.example",
    "generator_master_group": "perf-lg-master",
    "generator_workers_group": "perf-lg-workers",
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("PERFENV_AWS_ACCOUNTS", "123456789012")
    kube.allow(monkeypatch, tmp_path, generator=True)
    with mock_aws():
        _moto("s3", REGION).create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield


def _moto(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region)  # type: ignore[call-overload]


def _generator(workers: int) -> tuple[str, list[str], str]:
    """The program's two groups, as moto launches them: (master, workers, master's address)."""
    ec2 = _moto("ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.1.0/24")["Subnet"]["SubnetId"]
    image = ec2.register_image(Name="load-generator", RootDeviceName="/dev/xvda")["ImageId"]
    ec2.create_launch_template(
        LaunchTemplateName="load-generator",
        LaunchTemplateData={"ImageId": image, "InstanceType": "c6i.large"},
    )
    autoscaling = _moto("autoscaling", REGION)
    ids = {}
    for name, size in (
        (OUTPUTS["generator_master_group"], 1),
        (OUTPUTS["generator_workers_group"], workers),
    ):
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=name,
            LaunchTemplate={"LaunchTemplateName": "load-generator"},
            MinSize=size,
            MaxSize=size,
            DesiredCapacity=size,
            VPCZoneIdentifier=subnet,
        )
        (group,) = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
            "AutoScalingGroups"
        ]
        ids[name] = sorted(i["InstanceId"] for i in group["Instances"])
    (master,) = ids[OUTPUTS["generator_master_group"]]
    reservations = ec2.describe_instances(InstanceIds=[master])["Reservations"]
    address = reservations[0]["Instances"][0]["PrivateIpAddress"]
    return master, ids[OUTPUTS["generator_workers_group"]], address


def _target(instances: FakeInstances) -> AwsTarget:
    return AwsTarget(
        automation=FakeAutomation(outputs=OUTPUTS),
        client=instances,
        sleep=lambda s: None,
        attempts=1,
    )


def _instances() -> FakeInstances:
    return FakeInstances(fallback=FakeClients(fallback=_moto))


def _keys() -> list[str]:
    listed = _moto("s3", REGION).list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return sorted(o["Key"] for o in listed)


def test_perfenv_run_on_aws_drives_the_generator_through_s3_and_run_command(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERFENV_STATE_URL", STATE_URL)
    master, workers, address = _generator(2)
    instances = _instances()

    def target(*args: Any, **kwargs: Any) -> AwsTarget:
        return _target(instances)

    deps = Deps(
        target=target,
        wait_healthy=lambda url: None,
        check_parity=lambda config: None,
        check_policies=lambda config, progress: None,
    )
    command = ["run", "--release", "1.4.2", "--target", "aws", "--workers", "2"]
    command += ["--suite", "suites/smoke.yaml", "--format", "json"]
    result = CliRunner().invoke(app, command, obj=deps)
    assert result.exit_code == 0, result.output
    stack = json.loads(result.stdout)["stack"]

    # 1. The plan went to the run's exchange prefix, for two workers, against the stack's URL.
    (plan,) = instances.plans
    assert (plan["workers"], plan["base_url"]) == (2, OUTPUTS["service_url"])
    prefix = f"ci/generator/{stack}/runs/load-"
    assert [k.rsplit("/", 1)[-1] for k in _keys() if k.startswith(prefix)] == [
        "plan.json",
        "records.jsonl",
    ]
    # 2. Run Command: the master, then one worker per instance, connecting to the master.
    assert [(s["InstanceIds"], s["DocumentName"]) for s in instances.sent] == [
        ([master], "AWS-RunShellScript"),
        ([workers[0]], "AWS-RunShellScript"),
        ([workers[1]], "AWS-RunShellScript"),
    ]
    scripts = ["\n".join(s["Parameters"]["commands"]) for s in instances.sent]
    assert f"{PYTHON} -m locust" in scripts[0] and "--expect-workers 2" in scripts[0]
    assert f"--master-bind-port {MASTER_PORT}" in scripts[0]
    assert all(f"--master-host {address} --master-port {MASTER_PORT}" in s for s in scripts[1:])
    # 3. Polled until the master's command succeeded.
    assert instances.polled and instances.polled[0][1] == master
    # 4. The records came back and merged as the local path merges them, worker by worker.
    doc = json.loads(Path(json.loads(result.stdout)["results"]).read_text())
    (scenario,) = doc["scenarios"]
    assert scenario["plan"]["workers"] == 2 and scenario["verdict"] == "pass"
    (run,) = scenario["runs"]
    assert [i["instance"] for i in run["generator"]["instances"]] == workers
    assert sum(w["sent"] for w in run["windows"]) == scenario["plan"]["planned_requests"] == 300
    assert sum(i["sent"] for i in run["generator"]["instances"]) == 300


def _plan(workers: int, locustfile: Path | None = None) -> LoadPlan:
    return LoadPlan(
        scenario="load",
        base_url=OUTPUTS["service_url"],
        rates=(5.0, 5.0),
        workers=workers,
        locustfile=locustfile,
        requests=() if locustfile else (RequestSpec(method="GET", path="/"),),
    )


def _up_hosts(instances: FakeInstances) -> Any:
    target = _target(instances)
    config = with_run(load_template(), STACK, "1.4.2", "2030-01-01T00:00:00Z", None, STATE_URL)
    target.up(STACK, config, run_tags(config, STACK, "1.4.2", None), lambda line: None)
    return target.generator(STACK)


def test_a_locustfile_goes_to_s3_beside_the_plan(aws: None, tmp_path: Path) -> None:
    _generator(1)
    instances = _instances()
    locustfile = tmp_path / "flows.py"
    locustfile.write_text("from locust import HttpUser\n")
    measured = run_plan(_plan(1, locustfile), hosts=_up_hosts(instances))
    assert measured.generator.valid and len(measured.windows) == 2
    (plan,) = instances.plans
    assert plan["locustfile"].startswith("/var/lib/perfenv/generator/runs/load-")
    assert [k for k in _keys() if k.endswith("flows.py") or k.endswith("locustfile.py")]


def test_a_failed_worker_command_is_an_error_naming_it_and_every_command_is_cancelled(
    aws: None,
) -> None:
    _, workers, _ = _generator(2)
    instances = _instances()
    hosts = _up_hosts(instances)
    instances.fail[workers[1]] = "ModuleNotFoundError: No module named 'locust'"
    with pytest.raises(InfraError, match=f"{workers[1]}: Run Command .* Failed: ModuleNotFound"):
        run_plan(_plan(2), hosts=hosts)
    assert len(instances.cancelled) == 3


def test_a_master_that_wrote_no_records_is_an_error(aws: None) -> None:
    _generator(1)
    instances = _instances()
    instances.write_records = False
    with pytest.raises(InfraError, match="wrote no records"):
        run_plan(_plan(1), hosts=_up_hosts(instances))


def test_the_plan_needs_as_many_workers_as_instances_in_service(aws: None) -> None:
    _generator(3)
    with pytest.raises(InfraError, match="3 worker instances in service; the plan needs 2"):
        run_plan(_plan(2), hosts=_up_hosts(_instances()))


def test_a_run_with_workers_and_no_state_store_in_s3_is_refused_before_up(aws: None) -> None:
    target = _target(_instances())
    config = with_run(load_template(), STACK, "1.4.2", "2030-01-01T00:00:00Z")  # file:// store
    with pytest.raises(BadInput, match="must be in S3: set PERFENV_STATE_URL=s3://"):
        target.up(STACK, config, run_tags(config, STACK, "1.4.2", None), lambda line: None)
    assert target.automation.log == []  # type: ignore[attr-defined]


def test_the_cli_polls_until_the_masters_command_succeeded(aws: None) -> None:
    master, workers, _ = _generator(1)
    instances = _instances()
    slept: list[float] = []
    hosts = _up_hosts(instances)
    hosts.remote.sleep = slept.append
    instances.in_progress = 4  # two rounds of (master, worker) still in progress
    measured = run_plan(_plan(1), hosts=hosts)
    assert measured.generator.valid
    assert [i for _, i in instances.polled] == [master, workers[0]] * 3
    assert slept == [POLL_S, POLL_S]


def test_the_instance_scripts_are_valid_shell(aws: None) -> None:
    _generator(1)
    instances = _instances()
    run_plan(_plan(1), hosts=_up_hosts(instances))
    for sent in instances.sent:
        script = "\n".join(sent["Parameters"]["commands"])
        checked = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
        assert checked.returncode == 0, checked.stderr
        assert script.endswith("exit $status")


def test_a_breached_abort_budget_cancels_the_commands_and_keeps_what_was_measured(
    aws: None,
) -> None:
    """The records are read at each poll: an abort budget stops the run on AWS as the local
    path stops its processes."""
    _generator(2)
    instances = _instances()
    hosts = _up_hosts(instances)
    instances.in_progress = 10**6  # the master is still running when the breach is seen
    breach = Breach(scenario="load", budget=parse_budget("p95 < 1ms"), at_s=0, value=2.0)
    seen: list[int] = []

    def progress(window: Any) -> None:
        seen.append(window.t)
        raise BudgetBreached(breach)

    with pytest.raises(BudgetBreached) as stopped:
        run_plan(_plan(2), progress, hosts=hosts)
    assert seen == [0] and len(instances.cancelled) == 3
    measured = stopped.value.measurement
    assert measured is not None and measured.aborted == breach.text
    assert [w.t for w in measured.windows] == [0]


def test_the_exchange_is_read_from_where_the_last_read_ended(aws: None) -> None:
    from perfenv.cli.targets.aws.generator import SsmHosts

    hosts = SsmHosts(_moto, REGION, f"{STATE_URL}/generator/{STACK}/", lambda s: None)
    assert hosts.download("runs/x/records.jsonl") is None
    uri = hosts.upload("runs/x/records.jsonl", b"one\ntwo\n")
    assert uri == f"{STATE_URL}/generator/{STACK}/runs/x/records.jsonl"
    assert hosts.download("runs/x/records.jsonl", 4) == b"two\n"
    assert hosts.download("runs/x/records.jsonl", 8) == b""  # S3 answers 416: nothing new


def test_up_of_a_release_on_aws_hands_its_generator_the_s3_state_store(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERFENV_STATE_URL", STATE_URL)
    target = _target(_instances())
    deps = Deps(target=lambda *a, **k: target, check_policies=lambda config, progress: None)
    command = ["up", "--release", "1.4.2", "--target", "aws", "--format", "json"]
    result = CliRunner().invoke(app, command, obj=deps)
    assert result.exit_code == 0, result.output  # it was refused: "must be in S3"
    stack = json.loads(result.stdout)["stack"]
    config = target.automation.stacks[stack].config  # type: ignore[attr-defined]
    assert f'"state_url": "{STATE_URL}"' in str(config["perfenv:run"])
