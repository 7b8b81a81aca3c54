"""The aws target with fake Automation API stacks, fake sts/quotas and moto for the sweep.

Nothing here reaches AWS or needs the Pulumi CLI; the real CLI path is covered only by the
missing-CLI and process-group tests (a fake `pulumi` executable)."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pulumi.automation import CommandResult, ConcurrentUpdateError
from typer.testing import CliRunner

from perfenv.cli.errors import BadInput, InfraError
from perfenv.cli.lifecycle import load_template, run_tags, with_run
from perfenv.cli.lifecycle.naming import sized_generator
from perfenv.cli.main import app
from perfenv.cli.project import home
from perfenv.cli.state.signals import SignalPolicy, StopRequested
from perfenv.cli.targets.aws import (
    INSTALL_HINT,
    AwsTarget,
    PulumiAutomation,
    _grouped_command_class,
)
from tests.conftest import STACKS_DIR
from tests.fakes import kube
from tests.fakes.automation import FakeAutomation, FakeClients, command_error, locked

STACK = "perf-1-4-2-abc123"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("PERFENV_AWS_ACCOUNTS", "123456789012, 210987654321")
    kube.allow(monkeypatch, tmp_path)  # the perf template's cluster, allowed; a fake kubectl
    with mock_aws():
        yield


def _moto(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region)  # type: ignore[call-overload]


def _target(
    automation: FakeAutomation, clients: FakeClients | None = None
) -> tuple[AwsTarget, list[float]]:
    slept: list[float] = []
    target = AwsTarget(
        automation=automation,
        client=clients or FakeClients(fallback=_moto),
        sleep=slept.append,
        attempts=4,
    )
    return target, slept


def _config() -> Any:
    template = load_template()
    return with_run(template, STACK, "1.4.2", "2030-01-01T00:00:00Z")


def _tags() -> dict[str, str]:
    return run_tags(load_template(), STACK, "1.4.2", "2030-01-01T00:00:00Z")


def _progress(line: str) -> None:
    pass


def test_the_exact_sequence_of_automation_calls_for_a_run(aws: None) -> None:
    automation = FakeAutomation()
    target, slept = _target(automation)
    up = target.up(STACK, _config(), _tags(), _progress)
    target.destroy(STACK, _progress)
    assert target.leftovers(STACK) == []
    target.remove(STACK)
    tag_calls = [f"set_tag {key}" for key in _tags()]
    assert automation.log == [
        f"create_stack {STACK}",
        "set_all_config",
        *tag_calls,
        "up",
        f"select_stack {STACK}",
        "refresh",
        "destroy",
        f"remove_stack {STACK}",
    ]
    assert up.outputs == {"service_url": "http://perf.example"} and up.resources == 41
    assert slept == []


def test_the_stack_config_is_the_perf_template_plus_the_run(aws: None) -> None:
    automation = FakeAutomation()
    target, _ = _target(automation)
    target.up(STACK, _config(), _tags(), _progress)
    config = automation.stacks[STACK].config
    assert config["aws:region"].value == "eu-west-1"
    environment = json.loads(config["perfenv:environment"].value)
    assert environment["kind"] == "perf" and environment["network"]["isolated"] is True
    assert json.loads(config["perfenv:run"].value)["release"] == "1.4.2"
    assert automation.stacks[STACK].tags["perfenv:expires-at"] == "2030-01-01T00:00:00Z"


def test_the_work_dir_is_per_stack_and_outside_stacks(aws: None) -> None:
    before = sorted(p.name for p in STACKS_DIR.iterdir())
    automation = FakeAutomation()
    target, _ = _target(automation)
    target.up(STACK, _config(), _tags(), _progress)
    work = automation.work_dirs[0]
    assert work == home() / "runs" / STACK and work.is_dir()
    assert not work.resolve().is_relative_to(STACKS_DIR.resolve())
    assert sorted(p.name for p in STACKS_DIR.iterdir()) == before
    target.remove(STACK)
    assert not work.exists()


def test_up_retries_a_locked_stack_with_backoff(aws: None) -> None:
    automation = FakeAutomation(failures={"up": [locked(), locked()]})
    target, slept = _target(automation)
    target.up(STACK, _config(), _tags(), _progress)
    assert automation.log.count("up") == 3
    assert slept == [2.0, 4.0]


def test_destroy_retries_throttling(aws: None) -> None:
    automation = FakeAutomation()
    target, slept = _target(automation)
    target.up(STACK, _config(), _tags(), _progress)
    automation.failures["destroy"] = [command_error("Throttling: Rate exceeded")]
    target.destroy(STACK, _progress)
    assert automation.log.count("destroy") == 2 and slept == [2.0]


def _dead_pid() -> int:
    import subprocess

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_lock_whose_owner_is_known_dead_is_cancelled_refreshed_and_swept(aws: None) -> None:
    automation = FakeAutomation()
    target, _ = _target(automation)
    target.up(STACK, _config(), _tags(), _progress)
    dead = locked(socket.gethostname(), _dead_pid())
    automation.failures["refresh"] = [dead for _ in range(4)]
    del automation.log[:]
    target.destroy(STACK, _progress)
    assert automation.log == [
        f"select_stack {STACK}",
        "refresh",
        "refresh",
        "refresh",
        "refresh",
        "cancel",
        "refresh clear_pending_creates",
        "destroy",
    ]


@pytest.mark.parametrize(
    "owner", [(socket.gethostname(), os.getpid()), ("another-runner", 1), None]
)
def test_a_lock_whose_owner_is_not_known_dead_is_not_cancelled(
    aws: None, owner: tuple[str, int] | None
) -> None:
    automation = FakeAutomation()
    target, _ = _target(automation)
    target.up(STACK, _config(), _tags(), _progress)
    unnamed = ConcurrentUpdateError(CommandResult(stdout="", stderr="currently locked", code=255))
    error = locked(*owner) if owner else unnamed  # None: a lock the CLI names no owner of
    automation.failures["refresh"] = [error for _ in range(4)]
    with pytest.raises(InfraError, match="not known to have stopped; not cancelled"):
        target.destroy(STACK, _progress)
    assert "cancel" not in automation.log and "destroy" not in automation.log


def test_an_error_that_is_not_transient_is_an_infra_error(aws: None) -> None:
    automation = FakeAutomation(failures={"up": [command_error("creating VPC: InvalidParameter")]})
    target, slept = _target(automation)
    with pytest.raises(InfraError, match="pulumi up failed: error: creating VPC"):
        target.up(STACK, _config(), _tags(), _progress)
    assert slept == []


def test_an_account_not_in_the_allowlist_is_refused_before_anything(aws: None) -> None:
    automation = FakeAutomation()
    target, _ = _target(automation, FakeClients(account="999999999999"))
    with pytest.raises(BadInput, match="AWS account 999999999999 is not in PERFENV_AWS_ACCOUNTS"):
        target.up(STACK, _config(), _tags(), _progress)
    assert automation.log == []


def test_without_an_allowlist_every_account_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERFENV_AWS_ACCOUNTS", raising=False)
    automation = FakeAutomation()
    target, _ = _target(automation, FakeClients())
    with pytest.raises(BadInput, match="PERFENV_AWS_ACCOUNTS: not set"):
        target.up(STACK, _config(), _tags(), _progress)
    assert automation.log == []


def test_a_fleet_above_the_vcpu_quota_is_refused_before_anything(aws: None) -> None:
    automation = FakeAutomation()
    target, _ = _target(automation, FakeClients(vcpu_quota=4))
    config = sized_generator(_config(), 0.0, 1)  # the generator's master and worker count too
    with pytest.raises(BadInput, match=r"fleet.max: needs 12 vCPUs .* L-1216C47A .* is 4"):
        target.up(STACK, config, _tags(), _progress)
    assert automation.log == []


def test_leftovers_and_the_sweep_by_tag(aws: None) -> None:
    region = "eu-west-1"
    ec2 = _moto("ec2", region)
    tag = [{"Key": "perfenv:stack", "Value": STACK}]
    vpc = ec2.create_vpc(
        CidrBlock="10.30.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": tag}],
    )["Vpc"]["VpcId"]
    ec2.create_subnet(
        VpcId=vpc,
        CidrBlock="10.30.0.0/24",
        TagSpecifications=[{"ResourceType": "subnet", "Tags": tag}],
    )
    ec2.create_launch_template(
        LaunchTemplateName="fleet-lt-1",
        LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"},
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": tag}],
    )
    other = ec2.create_vpc(
        CidrBlock="10.40.0.0/16",
        TagSpecifications=[
            {"ResourceType": "vpc", "Tags": [{"Key": "perfenv:stack", "Value": "x"}]}
        ],
    )["Vpc"]["VpcId"]
    target, _ = _target(FakeAutomation())
    found = target.leftovers(STACK)
    assert any(vpc in line for line in found)
    assert any(line.startswith("launch-template ") for line in found)
    assert any(":subnet/" in line for line in found)
    target.sweep(STACK, _progress)
    assert target.leftovers(STACK) == []
    assert [v["VpcId"] for v in ec2.describe_vpcs(VpcIds=[other])["Vpcs"]] == [other]


def test_destroy_of_an_unknown_stack_only_sweeps(aws: None) -> None:
    automation = FakeAutomation()
    target, _ = _target(automation)
    target.destroy("perf-gone-000000", _progress)
    assert automation.log == ["select_stack perf-gone-000000"]


# --- the real Automation API path: a missing CLI, and the CLI's process group -----------------


def test_a_missing_pulumi_cli_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    target = AwsTarget(client=FakeClients())
    assert isinstance(target.automation, PulumiAutomation)
    with pytest.raises(BadInput) as refused:
        target.up(STACK, _config(), _tags(), _progress)
    assert str(refused.value) == INSTALL_HINT

    result = CliRunner().invoke(app, ["up", "--release", "1.4.2", "--target", "aws"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"perfenv: {INSTALL_HINT}"]
    assert "Traceback" not in result.output


def test_the_automation_api_raises_file_not_found_without_the_cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(BadInput, match="Pulumi CLI is not installed"):
        PulumiAutomation("file:///tmp/x").stack(STACK, tmp_path, create=True)


def _fake_pulumi(bin_dir: Path, marker: Path) -> None:
    """A `pulumi` that answers `version`, reports its process group, and on `up` waits for a
    signal, writing which one it got."""
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            f"""
            import json, os, signal, sys, time
            args = [a for a in sys.argv[1:] if a != "--non-interactive"]
            if args == ["version"]:
                print("v3.272.0"); sys.exit(0)
            if args[:1] == ["up"]:
                def stop(signum, frame):
                    open({str(marker)!r}, "w").write(signal.Signals(signum).name)
                    sys.exit(1)
                signal.signal(signal.SIGINT, stop)
                print("started", flush=True)
                time.sleep(60)
                sys.exit(0)
            print(json.dumps({{"pgid": os.getpgrp(), "args": args}}))
            """
        )
    )
    script.chmod(0o755)


def test_the_pulumi_cli_runs_in_its_own_process_group(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _fake_pulumi(tmp_path / "bin", tmp_path / "marker")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    command = _grouped_command_class()()
    result = command.run(["stack", "ls"], str(tmp_path), {})
    reported = json.loads(result.stdout)
    assert reported["args"] == ["stack", "ls"]
    assert reported["pgid"] != os.getpgrp()


def test_a_stopped_step_passes_sigint_to_the_pulumi_cli_and_waits_for_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    _fake_pulumi(tmp_path / "bin", marker)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    command = _grouped_command_class()()

    def interrupt(line: str) -> None:
        if line == "started":
            threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()

    policy = SignalPolicy()
    with policy.installed(), pytest.raises(StopRequested), policy.step("up"):
        command.run(["up", "--yes"], str(tmp_path), {}, on_output=interrupt)
    assert marker.read_text() == "SIGINT"  # the CLI got SIGINT from us, and had ended


# --- the real Automation API against a fake `pulumi` executable --------------------------------


_VALUED = {
    "--stack",
    "--secrets-provider",
    "--exec-kind",
    "--event-log",
    "--color",
    "--page-size",
    "--page",
    "--plaintext",
    "--secret",
    "--client",
}


def _op(call: list[str]) -> str:
    """`stack tag set k v` from a CLI call: flags and their values dropped."""
    words: list[str] = []
    skip = False
    for arg in call:
        if skip:
            skip = False
        elif arg in _VALUED:
            skip = True
        elif not arg.startswith("-"):
            words.append(arg)
    return " ".join(words)


def _cli_calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_the_pulumi_commands_of_a_run_through_the_real_automation_api(
    aws: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.fakes.pulumi_cli import install

    install(tmp_path / "bin")
    log = tmp_path / "pulumi.log"
    monkeypatch.setenv("FAKE_PULUMI_LOG", str(log))
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "bin" / "locked").write_text("1")  # the first `up` finds the stack locked
    slept: list[float] = []
    target = AwsTarget(client=FakeClients(fallback=_moto), sleep=slept.append)
    assert isinstance(target.automation, PulumiAutomation)

    up = target.up(STACK, _config(), _tags(), _progress)
    target.destroy(STACK, _progress)
    assert target.leftovers(STACK) == []
    target.remove(STACK)

    ops = [_op(call) for call in _cli_calls(log) if call != ["version"]]
    tags = [f"stack tag set {k} {v}" for k, v in _tags().items()]
    assert ops[0] == f"stack init {STACK}"
    assert ops[1] == "config set-all"
    assert ops[2 : 2 + len(tags)] == tags
    pulumi_ops = [op for op in ops if op in ("up", "refresh", "destroy")]
    assert pulumi_ops == ["up", "up", "refresh", "destroy"]  # `up` once more after the lock
    assert ops[-1] == f"stack rm {STACK}"
    assert slept == [2.0]  # one backoff for the locked stack
    assert up.outputs == {"service_url": "http://perf.example"} and up.resources == 41

    calls = _cli_calls(log)
    config_call = next(c for c in calls if c[:2] == ["config", "set-all"])
    assert "--stack" in config_call and STACK in config_call
    assert any(a.startswith("perfenv:environment=") for a in config_call)
    work = home() / "runs" / STACK
    assert not work.exists()  # removed with the stack
    assert not (STACKS_DIR / f"Pulumi.{STACK}.yaml").exists()
