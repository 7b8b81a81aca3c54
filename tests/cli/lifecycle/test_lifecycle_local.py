"""`perfenv run` / `up` / `down` / `reap` end to end on the real local target, as subprocesses.

Few and short: a 3 s suite for the passing runs, a 12 s one for the runs that get a signal.
The `--ttl 1s` / `stacks --expired` / `reap` flow runs here on a killed run's stack; the same
with `perfenv up --ttl 1s` is in test_lifecycle.py (fake target).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from perfenv.cli.targets.local import fleet
from tests.cli.lifecycle.test_cancel import ours
from tests.conftest import REPO

pytestmark = pytest.mark.slow
PERFENV = [sys.executable, "-m", "perfenv.cli.main"]
REGION = "eu-west-1"


def _suite(tmp_path: Path, name: str, duration: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"name: {name}\n"
        "engine: locust\n"
        "requests:\n"
        "  - {method: GET, path: /items, weight: 1}\n"
        "scenarios:\n"
        f"  - {{name: load, kind: load, rate: 10, duration: {duration}, warmup: 1s}}\n"
        'budgets: ["error_rate < 5%"]\n'
    )
    return path


_parity_markers: list[Path] = []


@pytest.fixture(autouse=True)
def emulator(tmp_path: Path) -> Iterator[None]:
    """Stops the emulator afterwards. Before: the parity pass of the first test is reused (it
    evaluates two programs: seconds that every run's checks would pay again per fresh home)."""
    from perfenv.cli.project import home

    cache = home() / "cache"
    if not _parity_markers:
        # --ttl 1s: every check passes, then the TTL check refuses; nothing is created
        _perfenv(
            "run",
            "--release",
            "0.0.1",
            "--suite",
            str(_suite(tmp_path, "p", "3s")),
            "--ttl",
            "1s",
            "--out",
            str(tmp_path / "parity"),
        )
        _parity_markers.extend(cache.glob("parity-*"))
        assert _parity_markers, "the parity check did not pass"
    cache.mkdir(parents=True, exist_ok=True)
    for marker in _parity_markers:
        (cache / marker.name).touch()
    yield
    from perfenv.cli.targets.local import emulator as local

    local.stop(force=True)


def _perfenv(*args: str, env: dict[str, str] | None = None, timeout: float = 240) -> Any:
    return subprocess.run(
        [*PERFENV, *args],
        cwd=REPO,
        env=os.environ | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def _start_run(
    release: str, suite: Path, out: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    log = open(out.parent / f"{out.name}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [
            *PERFENV,
            "run",
            "--release",
            release,
            "--target",
            "local",
            "--suite",
            str(suite),
            "--out",
            str(out),
            "--format",
            "json",
            *extra,
        ],
        cwd=REPO,
        env=os.environ | (env or {}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        start_new_session=True,  # our signals, not the test runner's
    )


def _wait_status(
    out: Path, status: str, proc: subprocess.Popen[str], timeout: float = 120
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data: dict[str, Any] = json.loads((out / "manifest.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            data = {}
        if data.get("status") == status:
            return data
        assert proc.poll() is None, (
            f"run ended before {status}: {(out.parent / f'{out.name}.log').read_text()[-2000:]}"
        )
        time.sleep(0.2)
    raise AssertionError(f"no {status} within {timeout}s")


def _kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)


def _aws_leftovers(stack: str) -> list[str]:
    """What the emulator still holds for `stack`, as the real AWS APIs list it."""
    from perfenv.cli.targets.local import emulator as local

    endpoint = local.endpoint()
    if endpoint is None:
        return []
    kw: dict[str, Any] = {"endpoint_url": endpoint, "region_name": REGION}
    ec2 = boto3.client("ec2", **kw)
    terminated = {
        i["InstanceId"]
        for r in ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] == "terminated"
    }
    tagging = boto3.client("resourcegroupstaggingapi", **kw)
    found = [
        m["ResourceARN"]
        for m in tagging.get_resources(TagFilters=[{"Key": "perfenv:stack", "Values": [stack]}])[
            "ResourceTagMappingList"
        ]
        if m["ResourceARN"].rsplit("/", 1)[-1] not in terminated
    ]
    asg = boto3.client("autoscaling", **kw)
    found += [
        t["ResourceId"]
        for t in asg.describe_tags(Filters=[{"Name": "value", "Values": [stack]}])["Tags"]
    ]
    found += [
        lt["LaunchTemplateId"]
        for lt in ec2.describe_launch_templates(
            Filters=[{"Name": "tag:perfenv:stack", "Values": [stack]}]
        )["LaunchTemplates"]
    ]
    return found


def _registry() -> list[str]:
    from perfenv.cli.state.store import open_store

    return open_store().keys("runs/")


def _assert_server_side(results: dict[str, Any]) -> None:
    """Over each scenario's window the balancer counted what the client sent (within 1%), and
    CPU per instance and the in-service count are there."""
    server = results["server"]
    assert server["source"] == "balancer"
    for scenario in results["scenarios"]:
        (run,) = [r for r in server["scenarios"] if r["scenario"] == scenario["name"]]
        sent = sum(w["sent"] for r in scenario["runs"] for w in r["windows"])
        assert abs(run["totals"]["requests"] - sent) <= 0.01 * sent, (run["totals"], sent)
        assert any(len(p["cpu"]) == 2 for p in run["series"])
        assert {p["in_service"] for p in run["series"]} == {2}


def test_two_runs_at_once_then_a_later_release_compares_with_the_first(tmp_path: Path) -> None:
    """A release named as CI names it (a branch) beside a plain one; the later release compares
    with the latest earlier one by the version the names carry, and compare finds a release by
    the name it was given."""
    suite = _suite(tmp_path, "tiny", "3s")
    branch = "release/1.2.3"
    outs = {r: tmp_path / f"out-{r.replace('/', '-')}" for r in (branch, "2.0.0", "2.1.0")}
    first = [_start_run(r, suite, outs[r], "--baseline", "none") for r in (branch, "2.0.0")]
    records = []
    for proc in first:
        stdout, _ = proc.communicate(timeout=240)
        assert proc.returncode == 0, (tmp_path / f"{outs[branch].name}.log").read_text()[-3000:]
        records.append(json.loads(stdout))
    assert records[0]["stack"] != records[1]["stack"]
    assert re.fullmatch(r"perf-release-1-2-3-[a-z0-9]{6}", records[0]["stack"])
    for release in (branch, "2.0.0"):
        names = {p.name for p in outs[release].iterdir()}
        assert {"results.json", "junit.xml", "summary.md", "report.html", "manifest.json"} <= names
        assert json.loads((outs[release] / "manifest.json").read_text())["status"] == "done"
        assert _aws_leftovers(records[0]["stack"]) == []
        _assert_server_side(json.loads((outs[release] / "results.json").read_text()))
        assert "CPU per instance" in (outs[release] / "report.html").read_text()
    by_name = _perfenv("compare", branch, str(outs[branch] / "results.json"), "--format", "json")
    assert by_name.returncode == 0, by_name.stderr[-1500:]
    assert json.loads(by_name.stdout)["baseline"] == f"release {branch}"

    later = _perfenv(
        "run",
        "--release",
        "2.1.0",
        "--target",
        "local",
        "--suite",
        str(suite),
        "--out",
        str(outs["2.1.0"]),
        "--format",
        "json",
    )
    summary = (outs["2.1.0"] / "summary.md").read_text()
    results = json.loads((outs["2.1.0"] / "results.json").read_text())
    # 3 s at 10 req/s on a shared machine: a flagged regression (exit 1) is noise, not a bug here.
    regressed = bool((results.get("comparison") or {}).get("regressed"))
    assert later.returncode == (1 if regressed else 0), summary + later.stderr[-1500:]
    compared = [line for line in summary.splitlines() if "Comparison with baseline" in line]
    assert compared and "2.0.0" in compared[0]
    assert _registry() == []


def test_sigint_then_sigterm_during_the_suite_tears_down_and_exits_130(tmp_path: Path) -> None:
    """As a CI runner cancels: SIGINT, then SIGTERM 2 s later (in the teardown it started)."""
    from perfenv.cli.targets.local import emulator

    out = tmp_path / "out"
    proc = _start_run("3.0.0", _suite(tmp_path, "long", "12s"), out, "--baseline", "none")
    try:
        manifest = _wait_status(out, "testing", proc)
        deadline = time.monotonic() + 90  # Locust takes seconds to import on a busy machine
        while not any("locust" in cmd for cmd in ours(proc.pid).values()):
            assert proc.poll() is None and time.monotonic() < deadline, "no Locust process"
            time.sleep(0.2)
        time.sleep(2)  # into the suite
        os.kill(proc.pid, signal.SIGINT)
        time.sleep(2)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        stdout, _ = proc.communicate(timeout=120)
    finally:
        _kill(proc)
    log = (tmp_path / "out.log").read_text()
    assert proc.returncode == 130, log[-3000:]
    assert "SIGINT during suite: tearing down" in log
    assert _aws_leftovers(manifest["stack"]) == []
    assert fleet.marked(manifest["stack"]) == []  # no controller, balancer or app process
    live = emulator.running()  # shared by later commands: stopped by the fixture
    assert set(ours()) <= ({int(live["pid"])} if live else set())  # no Locust either
    assert json.loads((out / "manifest.json").read_text())["status"] == "done"
    assert _registry() == []


def test_sigint_during_up_tears_down_and_exits_130(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _start_run("3.1.0", _suite(tmp_path, "tiny", "3s"), out, "--baseline", "none")
    try:
        manifest = _wait_status(out, "creating", proc)
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGINT)
        proc.communicate(timeout=120)
    finally:
        _kill(proc)
    log = (tmp_path / "out.log").read_text()
    assert proc.returncode == 130, log[-3000:]
    assert _aws_leftovers(manifest["stack"]) == []
    assert fleet.marked(manifest["stack"]) == []  # no app process, recorded or not
    assert _registry() == []


def test_sigkilled_runs_are_cleaned_by_down_manifest_or_by_reap_after_expiry(
    tmp_path: Path,
) -> None:
    suite = _suite(tmp_path, "long", "12s")
    short = {"PERFENV_SETUP_MARGIN": "1s"}  # lets a run have a TTL shorter than a real margin
    a = _start_run("4.0.0", suite, tmp_path / "a", "--baseline", "none")
    b = _start_run("4.1.0", suite, tmp_path / "b", "--baseline", "none", "--ttl", "15s", env=short)
    try:
        stack_a = _wait_status(tmp_path / "a", "testing", a)["stack"]
        stack_b = _wait_status(tmp_path / "b", "testing", b)["stack"]
    finally:
        _kill(a)
        _kill(b)
    assert a.returncode == b.returncode == -signal.SIGKILL

    down = _perfenv("down", "--manifest", str(tmp_path / "a" / "manifest.json"))
    assert down.returncode == 0, down.stderr[-3000:]
    assert _aws_leftovers(stack_a) == []

    expires = json.loads((tmp_path / "b" / "manifest.json").read_text())["expires_at"]
    from perfenv.cli.state.manifest import now, parse_iso

    time.sleep(max(0.0, (parse_iso(expires) - now()).total_seconds()) + 1.0)
    expired = _perfenv("stacks", "--expired", "--format", "json")
    assert [r["stack"] for r in json.loads(expired.stdout)] == [stack_b]
    dry = _perfenv("reap", "--format", "json")
    assert json.loads(dry.stdout)[0]["action"] == "would destroy"
    assert _aws_leftovers(stack_b)  # the dry run touched nothing

    reaped = _perfenv("reap", "--yes", "--format", "json")
    assert reaped.returncode == 0, reaped.stderr[-3000:]
    assert {"stack": stack_b, "action": "destroyed"}.items() <= json.loads(reaped.stdout)[0].items()
    assert _aws_leftovers(stack_b) == []
    assert _registry() == []
    assert json.loads(_perfenv("stacks", "--format", "json").stdout) == []


def test_workers_run_on_the_load_generator_instances_and_merge(tmp_path: Path) -> None:
    """`--workers 3` sizes the stack's load generator: while the run measures, the AWS CLI
    against the emulator shows its workers group with 3 instances in service (and the master's
    with 1); each runs one Locust worker, and results.json merges the three, instance by
    instance."""
    from perfenv.cli.targets.local import emulator as local

    suite, out = _suite(tmp_path, "fleet", "4s"), tmp_path / "out-fleet"
    proc = _start_run("3.0.0", suite, out, "--workers", "3", "--baseline", "none")
    try:
        _wait_status(out, "testing", proc)
        endpoint = local.endpoint()
        assert endpoint is not None
        answer = subprocess.run(
            [str(Path(sys.executable).with_name("aws")), "--endpoint-url", endpoint]
            + ["--region", REGION, "--output", "json"]
            + ["autoscaling", "describe-auto-scaling-groups"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        groups = {
            g["AutoScalingGroupName"]: g for g in json.loads(answer.stdout)["AutoScalingGroups"]
        }
        (workers,) = [g for name, g in groups.items() if name.startswith("perf-lg-workers")]
        (master,) = [g for name, g in groups.items() if name.startswith("perf-lg-master")]
        assert workers["DesiredCapacity"] == 3 and master["DesiredCapacity"] == 1
        ids = sorted(i["InstanceId"] for i in workers["Instances"])
        assert len(ids) == 3
        stdout, _ = proc.communicate(timeout=240)
    finally:
        _kill(proc)
    assert proc.returncode == 0, (tmp_path / f"{out.name}.log").read_text()[-3000:]
    results = json.loads((out / "results.json").read_text())
    (scenario,) = results["scenarios"]
    assert scenario["plan"]["workers"] == 3
    (run,) = scenario["runs"]
    instances = run["generator"]["instances"]
    assert [i["instance"] for i in instances] == ids
    assert all(i["valid"] and i["sent"] > 0 for i in instances)
    assert sum(i["sent"] for i in instances) == sum(w["sent"] for w in run["windows"])
    assert run["generator"]["valid"] and scenario["plan"]["planned_requests"] == 40
