"""Teardown that cannot lose state: the account a run recorded, names that cannot escape, and
store errors after destroy that leave a manifest `down --manifest` can finish."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from perfenv.cli import lifecycle
from perfenv.cli.main import app
from perfenv.cli.project import home
from perfenv.cli.state.store import FileStore, open_store
from perfenv.cli.targets.aws import AwsTarget
from tests.fakes import kube
from tests.fakes.automation import FakeAutomation, FakeClients
from tests.fakes.target import FakeTarget, fake_deps

runner = CliRunner()
ACCOUNT_A, ACCOUNT_B = "111111111111", "222222222222"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("PERFENV_AWS_ACCOUNTS", f"{ACCOUNT_A},{ACCOUNT_B}")
    kube.allow(monkeypatch, tmp_path)  # the perf template's cluster, allowed; a fake kubectl
    with mock_aws():
        yield


def _aws_as(account: str, automation: FakeAutomation) -> lifecycle.Deps:
    """The aws target over fake Automation API stacks, with credentials of `account`."""

    def moto(service: str, region: str) -> Any:
        return boto3.client(service, region_name=region)  # type: ignore[call-overload]

    def target(name: str | None = None, **kw: Any) -> AwsTarget:
        return AwsTarget(
            automation=automation,
            client=FakeClients(account=account, fallback=moto),
            sleep=lambda s: None,
            attempts=2,
            account=kw.get("account"),
        )

    return fake_deps(target=target)


def test_teardown_with_another_accounts_credentials_refuses_and_refreshes_nothing(
    aws: None, tmp_path: Path
) -> None:
    automation = FakeAutomation()
    out = tmp_path / "out"
    up = runner.invoke(
        app,
        ["up", "--release", "1.0.0", "--target", "aws", "--out", str(out), "--format", "json"],
        obj=_aws_as(ACCOUNT_A, automation),
    )
    assert up.exit_code == 0, up.output
    stack = json.loads(up.stdout)["stack"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["account"] == ACCOUNT_A
    assert automation.stacks[stack].config["perfenv:run"].value.find(ACCOUNT_A) > 0
    del automation.log[:]

    for args in (["--manifest", str(out / "manifest.json")], ["--stack", stack]):
        down = runner.invoke(app, ["down", *args], obj=_aws_as(ACCOUNT_B, automation))
        assert down.exit_code == 2, down.output
        assert f"AWS account {ACCOUNT_B}: the stack was created in account {ACCOUNT_A}" in (
            down.stderr
        )
        assert automation.log == []  # nothing selected, refreshed or destroyed
        entry = open_store().get(f"runs/{stack}.json")
        assert entry is not None and entry["status"] == "up"  # the stack is still known
        assert entry["pid"] is None

    down = runner.invoke(
        app, ["down", "--manifest", str(out / "manifest.json")], obj=_aws_as(ACCOUNT_A, automation)
    )
    assert down.exit_code == 0, down.output
    assert "destroy" in automation.log and open_store().get(f"runs/{stack}.json") is None


@pytest.mark.parametrize("name", ["..", "../x", "a/b", ".", "../../etc"])
def test_down_of_a_name_that_escapes_is_exit_2_and_removes_nothing(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERFENV_AWS_ACCOUNTS", ACCOUNT_A)
    dot_perfenv = home()
    for part in ("state/runs/perf-x-abc123.json", "pulumi/.pulumi/stacks/x.json", "runs/a/b"):
        (dot_perfenv / part).parent.mkdir(parents=True, exist_ok=True)
        (dot_perfenv / part).write_text("{}")
    before = sorted(p.relative_to(dot_perfenv) for p in dot_perfenv.rglob("*"))
    for extra in ([], ["--yes"]):
        result = runner.invoke(app, ["down", "--stack", name, "--target", "aws", *extra])
        assert result.exit_code == 2, result.output
        assert "is not a stack name" in result.stderr
    assert sorted(p.relative_to(dot_perfenv) for p in dot_perfenv.rglob("*")) == before


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


class _FailingStore(FileStore):
    """A store that fails every write once `broken` is set (expired credentials, a network
    partition), as a run's teardown may meet it."""

    broken = False

    def put_if(self, key: str, value: dict[str, Any], version: str | None) -> bool:
        if self.broken:
            raise ConnectionError("state store unreachable")
        return super().put_if(key, value, version)

    def delete(self, key: str) -> None:
        if self.broken:
            raise ConnectionError("state store unreachable")
        super().delete(key)


def test_a_store_error_after_destroy_leaves_a_manifest_down_manifest_finishes(
    tmp_path: Path,
) -> None:
    target = FakeTarget()
    root = tmp_path / "state"
    store = _FailingStore(root, f"file://{root}")

    def breaking(stack: str) -> None:
        store.broken = True  # from destroy on, every registry write fails

    target.on_destroy = breaking
    deps = lifecycle.Deps(**{**vars(fake_deps(target)), "store": lambda url=None: store})
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["run", "--release", "1.0.0", "--out", str(out), "--format", "json"], obj=deps
    )
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    stack = json.loads(result.stdout)["stack"]
    assert f"{stack}: destroyed, but removing the run registry entry failed" in result.stderr
    assert f"perfenv down --manifest {out}/manifest.json finishes it" in result.stderr
    assert target.resources() == {}  # destroyed before any failing write

    store.broken, target.on_destroy = False, None
    entry = store.get(f"runs/{stack}.json")
    assert entry is not None and entry["status"] == "testing"  # what it could not update
    store.put(f"runs/{stack}.json", entry | {"pid": _dead_pid()})  # the run's process exited
    finish = runner.invoke(app, ["down", "--manifest", str(out / "manifest.json")], obj=deps)
    assert finish.exit_code == 0, finish.output
    assert store.get(f"runs/{stack}.json") is None
    assert json.loads((out / "manifest.json").read_text())["status"] == "done"


def test_two_runs_of_one_release_get_their_own_out_dirs(
    tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    monkeypatch.setenv("PERFENV_PROJECT", str(project))
    monkeypatch.setenv("PERFENV_STACKS_DIR", str(repo / "stacks"))
    target = FakeTarget()
    deps = fake_deps(target)
    stacks = []
    for _ in range(2):
        result = runner.invoke(app, ["run", "--release", "1.0.0", "--format", "json"], obj=deps)
        assert result.exit_code == 0, result.output
        stacks.append(json.loads(result.stdout))
    assert stacks[0]["out_dir"] != stacks[1]["out_dir"]
    for record in stacks:
        assert record["out_dir"] == str(project / "perfenv-results" / record["stack"])
        manifest = json.loads((Path(record["out_dir"]) / "manifest.json").read_text())
        assert manifest["stack"] == record["stack"]


def test_an_out_dir_holding_an_unfinished_run_is_refused(tmp_path: Path) -> None:
    target = FakeTarget()
    deps = fake_deps(target)
    out = tmp_path / "out"
    up = runner.invoke(app, ["up", "--release", "1.0.0", "--out", str(out)], obj=deps)
    assert up.exit_code == 0, up.output
    again = runner.invoke(app, ["run", "--release", "1.0.0", "--out", str(out)], obj=deps)
    assert again.exit_code == 2 and "holds the manifest of run perf-1-0-0-" in again.stderr
    assert len(target.resources()) == 1  # nothing else created


@pytest.mark.parametrize("command", ["run", "up"])
@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_an_out_dir_that_cannot_be_a_directory_is_exit_2_before_anything(
    command: str, where: str, tmp_path: Path
) -> None:
    target = FakeTarget()
    deps = fake_deps(target)
    (tmp_path / "taken").write_text("a file")
    out = tmp_path / "taken" if where == "a file" else tmp_path / "taken" / "out"
    result = runner.invoke(app, [command, "--release", "1.0.0", "--out", str(out)], obj=deps)
    assert result.exit_code == 2, result.output
    assert f"--out {out}: cannot be a directory" in result.stderr
    assert "Traceback" not in result.output
    assert target.resources() == {} and open_store().keys("runs/") == []  # nothing created
    assert (tmp_path / "taken").read_text() == "a file"


def test_up_refuses_an_out_dir_holding_an_unfinished_run(tmp_path: Path) -> None:
    target = FakeTarget()
    deps = fake_deps(target)
    out = tmp_path / "out"
    first = runner.invoke(app, ["up", "--release", "1.0.0", "--out", str(out)], obj=deps)
    assert first.exit_code == 0, first.output
    held = (out / "manifest.json").read_text()
    again = runner.invoke(app, ["up", "--release", "1.0.1", "--out", str(out)], obj=deps)
    assert again.exit_code == 2 and "holds the manifest of run perf-1-0-0-" in again.stderr
    assert (out / "manifest.json").read_text() == held  # not overwritten
    assert len(target.resources()) == 1  # nothing else created


def test_a_state_store_that_cannot_be_written_is_exit_2_before_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("x")
    monkeypatch.setenv("PERFENV_STATE_URL", f"file://{tmp_path / 'a-file'}")
    target = FakeTarget()
    deps = fake_deps(target)
    result = runner.invoke(app, ["up", "--release", "1.0.0"], obj=deps)
    assert result.exit_code == 2, result.output
    assert "cannot write runs/perf-1-0-0-" in result.stderr and "Traceback" not in result.output
    assert target.resources() == {}
