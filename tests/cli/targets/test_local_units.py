"""Local target pieces that need no emulator: names, conversions, delete order, state, the fleet."""

from __future__ import annotations

import contextlib
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from perfenv.cli.errors import BadInput, InfraError
from perfenv.cli.targets.local import LocalTarget, fleet, state
from perfenv.cli.targets.local.deletion import delete_order, delete_waves
from perfenv.cli.targets.local.realize.base import Ctx, RealizeError, physical_name
from perfenv.cli.targets.local.realize.launch_templates import _template_data
from perfenv.cli.targets.local.realize.security_groups import _permission
from perfenv.cli.targets.local.state import ResourceRecord, StackState


def _ctx(name: str) -> Ctx:
    return Ctx(
        type="aws:lb/loadBalancer:LoadBalancer",
        name=name,
        region="eu-west-1",
        client_factory=lambda service, region: None,
    )


def test_autonaming_adds_seven_hex_chars_and_fits_the_limit() -> None:
    name = physical_name(_ctx("perf-lb-alb"), {}, limit=32)
    assert name.startswith("perf-lb-alb-") and len(name) == len("perf-lb-alb-") + 7
    long_name = physical_name(_ctx("perf-1-4-2-abcdef-load-balancer-public"), {}, limit=32)
    assert len(long_name) == 32 and long_name.startswith("perf-1-4-2-abcdef-load-")


def test_an_explicit_name_over_the_aws_limit_fails() -> None:
    with pytest.raises(RealizeError, match="at most 32"):
        physical_name(_ctx("x"), {"name": "a" * 33}, limit=32)
    assert physical_name(_ctx("x"), {"name": "a" * 32}, limit=32) == "a" * 32


def test_name_prefix_gets_a_random_suffix_within_the_limit() -> None:
    name = physical_name(_ctx("x"), {"namePrefix": "perf-"}, limit=32)
    assert name.startswith("perf-") and len(name) == 31


def test_inputs_are_converted_for_boto3() -> None:
    rule = {"protocol": "tcp", "fromPort": 80.0, "toPort": 80.0, "cidrBlocks": ["10.0.0.0/8"]}
    assert _permission(rule) == {
        "IpProtocol": "6",
        "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
        "FromPort": 80,
        "ToPort": 80,
    }
    data = _template_data(
        {
            "blockDeviceMappings": [{"ebs": {"volumeSize": 8.0, "encrypted": "true"}}],
            "networkInterfaces": [{"securityGroups": ["sg-1"], "deleteOnTermination": "false"}],
        }
    )
    assert data["BlockDeviceMappings"] == [{"Ebs": {"VolumeSize": 8, "Encrypted": True}}]
    assert data["NetworkInterfaces"] == [{"Groups": ["sg-1"], "DeleteOnTermination": False}]


def _record(urn: str, deps: list[str]) -> ResourceRecord:
    return ResourceRecord(type="t", name=urn, id=urn, urn=urn, dependencies=deps)


def test_delete_order_is_reverse_creation_and_honours_dependencies() -> None:
    # "c" was created after "b" but depends on nothing; "a" is depended on by "c".
    records = [_record("a", []), _record("b", []), _record("c", ["a"]), _record("d", ["b"])]
    order = [r.urn for r in delete_order(records)]
    assert order == ["d", "c", "b", "a"]
    # a dependency recorded out of creation order still goes last
    records = [_record("x", ["y"]), _record("y", [])]
    assert [r.urn for r in delete_order(records)] == ["x", "y"]


def test_delete_waves_go_by_dependency_level_and_fall_back_to_the_order() -> None:
    # vpc <- subnet <- (lb, rta); sg <- lb; topic stands alone
    records = [
        _record("vpc", []),
        _record("sg", ["vpc"]),
        _record("subnet", ["vpc"]),
        _record("lb", ["subnet", "sg"]),
        _record("rta", ["subnet"]),
        _record("topic", []),
    ]
    waves = [sorted(r.urn for r in wave) for wave in delete_waves(records)]
    assert waves == [["lb", "rta", "topic"], ["sg", "subnet"], ["vpc"]]
    # Without URNs (an up stopped early) there is no graph: one at a time, newest first.
    bare = [ResourceRecord(type="t", name=n, id=n) for n in ("a", "b", "c")]
    assert [[r.name for r in wave] for wave in delete_waves(bare)] == [["c"], ["b"], ["a"]]


def test_stack_state_round_trips_and_lists_with_expiry() -> None:
    tags = {"perfenv:stack": "perf-a", "perfenv:expires-at": "2026-01-01T10:00:00Z"}
    state.save(
        StackState(
            stack="perf-a",
            endpoint="http://127.0.0.1:1",
            tags=tags,
            expires_at=state.parse_expiry(tags),
        )
    )
    state.save(StackState(stack="dev", endpoint="http://127.0.0.1:1"))
    infos = {i.name: i for i in LocalTarget().list_stacks()}
    assert set(infos) == {"perf-a", "dev"}
    assert infos["perf-a"].expires_at == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert infos["perf-a"].target == "local" and infos["dev"].expires_at is None
    LocalTarget().remove("perf-a")
    assert state.names() == ["dev"]


@pytest.mark.parametrize("text", ['{"resources": [', '{"stack": 7}', "[]"])
def test_a_corrupt_stack_state_is_a_one_line_infra_error(text: str) -> None:
    state.save(StackState(stack="perf-c", endpoint="http://127.0.0.1:1"))
    state.path_of("perf-c").write_text(text)
    with pytest.raises(InfraError, match="unreadable stack state") as info:
        LocalTarget().destroy("perf-c", lambda line: None)
    assert "\n" not in str(info.value), str(info.value)
    assert state.path_of("perf-c").read_text() == text  # left as found, for a person to look at


def test_up_of_an_existing_stack_is_bad_input() -> None:
    from perfenv.infra.config import load_stack_file
    from tests.conftest import STACKS_DIR

    state.save(StackState(stack="perf-b", endpoint="http://127.0.0.1:1"))
    config = load_stack_file(STACKS_DIR / "Pulumi.perf.yaml")
    with pytest.raises(BadInput, match="stack perf-b is already up; down it first") as info:
        LocalTarget().up("perf-b", config, {}, lambda line: None)
    assert info.value.exit_code == 2


def test_fleet_starts_health_checks_and_stops_a_process(tmp_path: Path) -> None:
    command = ["{python}", "-m", "http.server", "--bind", "127.0.0.1", "{port}"]
    proc = fleet.start(command, "/", tmp_path, "app")
    try:
        assert fleet.alive(proc) and proc.command[0] == sys.executable
        assert proc.command[-1] == str(proc.port)
    finally:
        fleet.stop([proc])
    assert not fleet.alive(proc)


def test_an_unrecorded_app_process_is_found_by_its_mark_and_stopped(tmp_path: Path) -> None:
    # What a Ctrl-C between an app's start and its pid being recorded leaves behind.
    command = ["{python}", "-c", "import time; time.sleep(60)"]
    proc = fleet.launch(command, tmp_path, "app", "perf-mark-1")
    try:
        assert fleet.marked("perf-mark-1") == [proc.pid]
        assert fleet.live_pids("perf-mark-1", []) == [proc.pid]
        assert fleet.marked("perf-mark-2") == []
        fleet.stop_stack("perf-mark-1", [])
        assert not fleet.alive(proc) and fleet.marked("perf-mark-1") == []
    finally:
        fleet.stop([proc])


def test_fleet_reports_an_app_that_exits(tmp_path: Path) -> None:
    with pytest.raises(InfraError, match="exited with code 3"):
        fleet.start(["{python}", "-c", "raise SystemExit(3)"], "/health", tmp_path, "bad")


def test_the_local_target_keeps_pulumi_and_boto3_out_of_the_cli_process() -> None:
    import subprocess

    code = (
        "import sys, perfenv.cli.targets.local, perfenv.cli.commands.local; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pulumi', 'boto3', 'botocore'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_worker_failure_line_becomes_the_error(tmp_path: Path) -> None:
    from perfenv.cli.targets.local.target import _last_error

    log = tmp_path / "worker.log"
    log.write_text("Traceback ...\n  noise\nperfenv-worker: creating aws:lb/x y: bad name\n")
    assert _last_error(log) == "creating aws:lb/x y: bad name"


def test_destroy_prepares_the_clients_each_delete_calls() -> None:
    """`prepare_clients` makes, while the processes stop, the client of the service each type's
    delete calls first (a recording client factory stands in for the emulator's)."""
    from collections import defaultdict
    from unittest import mock

    from perfenv.cli.targets.local.deletion import prepare_clients
    from perfenv.cli.targets.local.realize import REGISTRY

    checked = 0
    for type_, handler in sorted(REGISTRY.items()):
        called: list[tuple[str, str]] = []

        def factory(service: str, region: str, called: list[tuple[str, str]] = called) -> Any:
            called.append((service, region))
            return mock.MagicMock()

        ctx = Ctx(type=type_, name="r", region="eu-west-1", client_factory=factory)
        with contextlib.suppress(Exception):  # a stand-in answer may not satisfy the handler
            handler.delete(ctx, "r-1", defaultdict(str))
        first = called[:1]
        called.clear()
        record = ResourceRecord(type=type_, name="r", id="r-1", region="eu-west-1")
        with mock.patch("perfenv.cli.targets.local.realize.Clients", return_value=factory):
            prepare_clients(StackState(stack="s", endpoint="x", resources=[record]), "x")
        if first:  # else the stand-in id or state stopped the handler before any call
            assert called == first, type_
            checked += 1
    assert checked >= 20
