from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from perfenv.cli.errors import CheckFailed
from perfenv.cli.main import app
from perfenv.cli.program.parity import check_parity, config_differences
from perfenv.infra.config import load_stack_file

STACKS = Path(__file__).resolve().parents[3] / "stacks"
runner = CliRunner()


@pytest.fixture
def stacks(tmp_path: Path) -> Path:
    target = tmp_path / "stacks"
    shutil.copytree(STACKS, target)
    return target


def edit_perf(stacks: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = stacks / "Pulumi.perf.yaml"
    data = yaml.safe_load(path.read_text())
    change(data["config"]["perfenv:environment"])
    path.write_text(yaml.safe_dump(data))


def test_shipped_perf_matches_staging() -> None:
    result = runner.invoke(app, ["parity", "--reference", "staging", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
    assert "perf matches staging" in result.stderr


def test_missing_component_fails_and_is_named(stacks: Path) -> None:
    edit_perf(stacks, lambda env: env["kubernetes"].update(enabled=False))
    result = runner.invoke(app, ["parity", "--stacks-dir", str(stacks)])
    assert result.exit_code == 1, result.output
    assert "component: perfenv:infra:KubernetesApp: staging has it, perf lacks it" in result.stderr
    assert "config: kubernetes.enabled" in result.stderr
    assert "KubernetesApp" in result.stdout  # the table names it too
    assert "Traceback" not in result.output


def test_opened_rule_fails_and_is_named(stacks: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    edit_perf(stacks, lambda env: env["load_balancer"].update(ingress_cidrs=["0.0.0.0/0"]))
    monkeypatch.setenv("PERFENV_STACKS_DIR", str(stacks))
    result = runner.invoke(app, ["parity", "--format", "json"])
    assert result.exit_code == 1, result.output
    rows = json.loads(result.stdout)
    opened = [r for r in rows if r["aspect"] == "rule" and r["perf"] == "has it"]
    assert {r["item"] for r in opened} == {
        "net-lb-sg: ingress tcp 80-80 from 0.0.0.0/0,<vpc-cidr>",
        "net-lb-sg: ingress tcp 443-443 from 0.0.0.0/0,<vpc-cidr>",
    }
    assert "rule: net-lb-sg: ingress tcp 80-80 from 0.0.0.0/0,<vpc-cidr>" in result.stderr


def test_scale_fields_may_differ() -> None:
    staging = load_stack_file(STACKS / "Pulumi.staging.yaml").environment
    dev = load_stack_file(STACKS / "Pulumi.dev.yaml").environment
    assert staging is not None and dev is not None
    # dev differs in sizes, az_count, nat, schedules, budgets: only isolation is a difference
    assert [d.item for d in config_differences(staging, dev)] == ["network.isolated"]


def test_check_parity_raises_check_failed(stacks: Path) -> None:
    edit_perf(stacks, lambda env: env["app"].update(health_path="/healthz"))
    with pytest.raises(CheckFailed) as info:
        check_parity(candidate=stacks / "Pulumi.perf.yaml", reference="staging", stacks_dir=stacks)
    assert "config: app.health_path" in str(info.value)
    assert CheckFailed.exit_code == 1


def test_dev_differs_from_staging_in_isolation_only_and_says_so() -> None:
    result = runner.invoke(
        app, ["parity", "--stack", "dev", "--reference", "staging", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and all(r["aspect"].startswith("isolation (allowed): ") for r in rows)
    items = {r["item"] for r in rows}
    assert {"network.isolated", "aws:ec2/internetGateway:InternetGateway"} <= items
    assert "net-public-rt: route 0.0.0.0/0 via gatewayId" in items
    assert "but for isolation, the allowed structural difference" in result.stderr


def test_isolation_allows_nothing_else(stacks: Path) -> None:
    path = stacks / "Pulumi.dev.yaml"
    data = yaml.safe_load(path.read_text())
    data["config"]["perfenv:environment"]["app"]["health_path"] = "/healthz"
    path.write_text(yaml.safe_dump(data))
    args = ["parity", "--stack", "dev", "--reference", "perf", "--stacks-dir", str(stacks)]
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 1, result.output
    rows = json.loads(result.stdout)
    plain = [r for r in rows if not r["aspect"].startswith("isolation")]
    assert {r["item"] for r in plain} >= {"app.health_path"}
    assert any(r["aspect"].startswith("isolation (allowed)") for r in rows)
