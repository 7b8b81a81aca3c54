"""The production refusal (one function, fail closed, the configured stacks dir) and the
`service_url` of a stack for `perfenv test --stack`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from perfenv.cli import lifecycle
from perfenv.cli.errors import BadInput
from perfenv.cli.main import app
from perfenv.cli.state.manifest import new_manifest, registry_key
from perfenv.cli.state.store import open_store
from tests.fakes.target import FakeTarget, fake_deps

runner = CliRunner()


@pytest.fixture
def stacks(tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A configured stacks dir (PERFENV_STACKS_DIR) whose `staging` and `perf` are prod."""
    configured = tmp_path / "stacks"
    configured.mkdir()
    for name in ("dev", "staging", "perf"):
        text = (repo / "stacks" / f"Pulumi.{name}.yaml").read_text()
        if name != "dev":
            text = text.replace(f"kind: {name}", "kind: prod")
        (configured / f"Pulumi.{name}.yaml").write_text(text)
    monkeypatch.setenv("PERFENV_STACKS_DIR", str(configured))
    return configured


def _invoke(target: FakeTarget, *args: str) -> Any:
    return runner.invoke(app, list(args), obj=fake_deps(target))


def _entry() -> dict[str, Any]:
    return {
        "outputs": {"service_url": "http://127.0.0.1:1"},
        "tags": {},
        "created_at": "2030-01-01T00:00:00+00:00",
        "resources": ["aws:ec2/vpc:Vpc x"],
    }


def test_prod_is_refused_by_up_down_test_and_run(stacks: Path, tmp_path: Path, repo: Path) -> None:
    target = FakeTarget()
    target._save({"staging": _entry()})
    suite = repo / "suites" / "smoke.yaml"
    results = {
        "up": _invoke(target, "up", "--stack", "staging"),
        "down": _invoke(target, "down", "--stack", "staging", "--yes"),
        "test": _invoke(target, "test", "--stack", "staging", "--suite", str(suite), "--out", "o"),
        "run": _invoke(target, "run", "--release", "1.0.0", "--out", str(tmp_path / "out")),
    }
    for command, result in results.items():
        assert result.exit_code == 2, (command, result.output)
        assert "kind: prod: perfenv never touches production" in result.stderr, command
    assert target.calls == []  # nothing created or destroyed
    assert target.resources() == {"staging": ["aws:ec2/vpc:Vpc x"]}
    assert not (tmp_path / "out").exists()


def test_a_stack_without_a_stack_file_is_not_assumed_safe(stacks: Path) -> None:
    target = FakeTarget()
    target._save({"live": _entry()})
    down = _invoke(target, "down", "--stack", "live", "--yes")
    assert down.exit_code == 2
    assert "no stack file Pulumi.live.yaml" in down.stderr and str(stacks) in down.stderr
    with pytest.raises(BadInput, match="cannot tell it is not production"):
        lifecycle.service_url("live", fake_deps(target))
    assert target.calls == [] and target.resources() == {"live": ["aws:ec2/vpc:Vpc x"]}


def test_a_stack_file_that_does_not_load_is_refused(stacks: Path) -> None:
    (stacks / "Pulumi.dev.yaml").write_text("config: [1, 2\n")
    result = _invoke(FakeTarget(), "down", "--stack", "dev", "--yes")
    assert result.exit_code == 2 and "Pulumi.dev.yaml: line" in result.stderr


def test_service_url_uses_the_registry_target() -> None:
    fake = FakeTarget(name="aws")
    asked: list[str | None] = []

    def get(name: str | None = None, **_: object) -> FakeTarget:
        asked.append(name)
        return fake

    fake._save({"perf-x-abc123": {"outputs": {"service_url": "http://10.0.0.1"}}})
    manifest = new_manifest(
        stack="perf-x-abc123",
        target="aws",
        backend="file:///b",
        state_url="file:///s",
        release="x",
        tags={},
        ttl_s=60,
        out_dir=None,
    )
    open_store().put(registry_key("perf-x-abc123"), manifest.model_dump())
    use = lifecycle.Deps(target=get)
    assert lifecycle.service_url("perf-x-abc123", use) == ("http://10.0.0.1", "aws")
    assert asked == ["aws"]
    with pytest.raises(BadInput, match="no service_url output"):
        lifecycle.service_url("dev", use)
