"""Choosing a target, and finding a stack's service_url."""

from __future__ import annotations

from pathlib import Path

import pytest

import perfenv.cli.targets as targets
from perfenv.cli.errors import BadInput
from perfenv.cli.state.manifest import new_manifest, registry_key
from perfenv.cli.state.store import open_store
from perfenv.cli.targets.aws import AwsTarget
from tests.fakes.target import FakeTarget


def test_the_target_comes_from_the_option_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert targets.target_name(None) == "local"
    monkeypatch.setenv("PERFENV_TARGET", "aws")
    assert targets.target_name(None) == "aws"
    assert targets.target_name("local") == "local"
    aws = targets.get_target(None, backend="s3://bucket/pulumi")
    assert isinstance(aws, AwsTarget) and aws.backend == "s3://bucket/pulumi"
    with pytest.raises(BadInput, match="--target: expected one of local, aws"):
        targets.get_target("gcp")


def test_resolve_service_url_uses_the_registry_target(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTarget(name="aws")
    asked: list[str | None] = []

    def get(name: str | None = None, *, backend: str | None = None) -> FakeTarget:
        asked.append(name)
        return fake

    monkeypatch.setattr(targets, "get_target", get)
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
    assert targets.resolve_service_url("perf-x-abc123") == "http://10.0.0.1"
    assert asked == ["aws"]
    with pytest.raises(BadInput, match="no service_url output"):
        targets.resolve_service_url("perf-gone-000000")


def test_resolve_service_url_refuses_a_prod_stack(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, repo: Path
) -> None:
    text = (
        (repo / "stacks" / "Pulumi.staging.yaml").read_text().replace("kind: staging", "kind: prod")
    )
    (tmp_path / "Pulumi.live.yaml").write_text(text)
    monkeypatch.setenv("PERFENV_STACKS_DIR", str(tmp_path))
    with pytest.raises(BadInput, match="kind: prod: perfenv never sends load to production"):
        targets.resolve_service_url("live")
