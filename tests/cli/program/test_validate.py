from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from perfenv.cli.main import app

STACKS = Path(__file__).resolve().parents[3] / "stacks"
runner = CliRunner()


@pytest.fixture
def stacks(tmp_path: Path) -> Path:
    target = tmp_path / "stacks"
    shutil.copytree(STACKS, target)
    return target


def edit(stacks: Path, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = stacks / f"Pulumi.{name}.yaml"
    data = yaml.safe_load(path.read_text())
    change(data["config"]["perfenv:environment"])
    path.write_text(yaml.safe_dump(data))


def run_validate(stacks: Path, *args: str) -> Any:
    return runner.invoke(app, ["validate", "--stacks-dir", str(stacks), *args])


def one_error(result: Any, file: str, field: str) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    line: str = lines[0]
    assert line.startswith("perfenv: ") and file in line and f": {field}: " in line, line
    assert "Traceback" not in result.output
    return line


def test_shipped_stacks_are_valid() -> None:
    result = runner.invoke(app, ["validate", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "Pulumi.perf.yaml" in result.stdout and "Pulumi.cost.yaml" in result.stdout


def test_team_must_be_a_tag_and_label_value(stacks: Path) -> None:
    path = stacks / "Pulumi.dev.yaml"
    path.write_text(
        path.read_text().replace("perfenv:team: platform", "perfenv:team: Platform Team")
    )
    line = one_error(run_validate(stacks), "Pulumi.dev.yaml", "perfenv:team")
    assert "should match pattern" in line


def test_named_stack_only(stacks: Path) -> None:
    edit(stacks, "dev", lambda env: env["fleet"].update(max=0))
    assert run_validate(stacks, "--stack", "perf").exit_code == 0
    one_error(run_validate(stacks, "--stack", "dev"), "Pulumi.dev.yaml", "fleet.max")


def test_min_above_max(stacks: Path) -> None:
    edit(stacks, "perf", lambda env: env["fleet"].update(min=5, desired=5, max=4))
    line = one_error(run_validate(stacks), "Pulumi.perf.yaml", "fleet.max")
    assert "must be >= desired (got 4 < 5)" in line


def test_autoscaler_ceiling_below_replicas(stacks: Path) -> None:
    edit(stacks, "staging", lambda env: env["app"].update(replicas=3, max_replicas=2))
    line = one_error(run_validate(stacks), "Pulumi.staging.yaml", "app.max_replicas")
    assert "must be >= replicas (got 2 < 3)" in line


def test_overlapping_cidrs(stacks: Path) -> None:
    edit(stacks, "dev", lambda env: env["network"].update(cidr="10.20.0.0/16"))
    line = one_error(run_validate(stacks), "Pulumi.", "network.cidr")
    assert "overlaps" in line


def test_unknown_key(stacks: Path) -> None:
    edit(stacks, "staging", lambda env: env["fleet"].update(instance_count=3))
    line = one_error(run_validate(stacks), "Pulumi.staging.yaml", "fleet.instance_count")
    assert "unknown key" in line


def test_malformed_yaml(stacks: Path) -> None:
    (stacks / "Pulumi.dev.yaml").write_text("config:\n  perfenv:environment: [unclosed\n")
    line = one_error(run_validate(stacks), "Pulumi.dev.yaml", "line 3")
    assert "malformed YAML" in line


def test_perf_must_be_isolated(stacks: Path) -> None:
    edit(stacks, "perf", lambda env: env["network"].update(isolated=False))
    one_error(run_validate(stacks), "Pulumi.perf.yaml", "network.isolated")


def test_cidr_too_small(stacks: Path) -> None:
    edit(stacks, "perf", lambda env: env["network"].update(cidr="10.30.0.0/26"))
    line = one_error(run_validate(stacks), "Pulumi.perf.yaml", "network.cidr")
    assert "/26" in line


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda env: env["budgets"].update(monthly_usd=0), "budgets.monthly_usd"),
        (lambda env: env["budgets"].update(thresholds=[0, 100]), "budgets.thresholds"),
    ],
)
def test_non_positive_budget_or_threshold(
    stacks: Path, change: Callable[[dict[str, Any]], None], field: str
) -> None:
    edit(stacks, "staging", change)
    one_error(run_validate(stacks), "Pulumi.staging.yaml", field)


def test_env_var_points_validate_at_another_dir(
    stacks: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit(stacks, "dev", lambda env: env["network"].update(nat="sometimes"))
    monkeypatch.setenv("PERFENV_STACKS_DIR", str(stacks))
    one_error(runner.invoke(app, ["validate"]), "Pulumi.dev.yaml", "network.nat")


def test_kubernetes_platform_needs_kubernetes(stacks: Path) -> None:
    def change(env: dict[str, Any]) -> None:
        env["app"]["platform"] = "kubernetes"
        env["kubernetes"]["enabled"] = False

    edit(stacks, "dev", change)
    one_error(run_validate(stacks), "Pulumi.dev.yaml", "app.platform")


def test_capacity_block_is_validated_and_may_differ_per_stack(stacks: Path) -> None:
    edit(stacks, "perf", lambda env: env.update(capacity={"expected_peak_rps": 900, "gate": True}))
    assert run_validate(stacks).exit_code == 0
    edit(stacks, "perf", lambda env: env.update(capacity={"expected_peak_rps": -1}))
    one_error(run_validate(stacks), "Pulumi.perf.yaml", "capacity.expected_peak_rps")
    edit(stacks, "perf", lambda env: env.update(capacity={"peak": 1}))
    one_error(run_validate(stacks), "Pulumi.perf.yaml", "capacity.peak")


def test_nat_on_an_isolated_network_is_refused(stacks: Path) -> None:
    edit(stacks, "perf", lambda env: env["network"].update(nat="single"))
    line = one_error(run_validate(stacks), "Pulumi.perf.yaml", "network.nat")
    assert "an isolated network has no NAT gateway (got single)" in line


def test_policies_on_request_and_the_budget_of_every_environment(stacks: Path) -> None:
    assert run_validate(stacks, "--policies").exit_code == 0
    (stacks / "Pulumi.cost.yaml").unlink()  # no cost stack: no environment has a budget
    result = run_validate(stacks, "--policies")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3 and all("policy every-environment-has-a-budget" in x for x in lines)
    assert run_validate(stacks).exit_code == 0  # without --policies: the configs only


def test_advisory_policies_warn(stacks: Path) -> None:
    edit(stacks, "dev", lambda env: env["fleet"].update(instance_type="p4d.24xlarge"))
    result = run_validate(stacks, "--stack", "dev", "--policies")
    assert result.exit_code == 0, result.output
    assert "warning: " in result.stderr and "allowed-instance-types" in result.stderr
