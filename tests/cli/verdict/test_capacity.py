"""The capacity model from a stress knee, its gate in a run, and `perfenv capacity`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from perfenv.cli.lifecycle.testrun import run_suite
from perfenv.cli.main import app
from perfenv.cli.project import perf_template
from perfenv.cli.verdict.capacity import MAX_TOO_LOW, capacity_model
from perfenv.cli.verdict.suite import parse_suite
from perfenv.infra.config import CapacityConfig, EnvironmentConfig, load_stack_file
from tests.cli.lifecycle.test_testrun import fake_engine

STRESS = parse_suite(
    {
        "name": "stress-suite",
        "requests": [{"path": "/items"}],
        "scenarios": [
            {
                "name": "stress",
                "kind": "stress",
                "start_rate": 10,
                "step_rate": 10,
                "step_every": "3s",
                "max_rate": 50,
            }
        ],
        "budgets": ["p95 < 100ms"],
    }
)


def _env(**capacity: Any) -> EnvironmentConfig:
    env = load_stack_file(perf_template()).environment
    assert env is not None  # the perf template: fleet desired 2, max 4, requests_per_target 1000
    return env.model_copy(update={"capacity": CapacityConfig(**capacity)})


def _knee_at_30(monkeypatch: pytest.MonkeyPatch) -> None:
    # Steps of 3 s at 10, 20, 30, 40, 50 req/s: slow from the fourth step (40 req/s) on.
    fake_engine(monkeypatch, lambda t, rng: 20.0 if t < 9 else 500.0)


def test_a_stress_run_carries_the_capacity_model_and_its_gate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _knee_at_30(monkeypatch)
    env = _env(expected_peak_rps=100, gate=True)
    outcome = run_suite(
        STRESS,
        "http://127.0.0.1:9",
        tmp_path,
        release="2.0.0",
        target_kind="local",
        environment=env,
    )
    model = outcome.results["capacity"]
    assert model["knee_rps"] == pytest.approx(30)
    assert model["instances_in_service"] == 2 and model["per_instance_rps"] == pytest.approx(15)
    assert model["fleet_capacity_rps"] == pytest.approx(60)  # 15 x fleet.max 4
    assert model["headroom"] == pytest.approx(-0.4) and model["required_max"] == 7
    assert model["verdict"] == MAX_TOO_LOW
    assert model["derived"]["requests_per_target"] == 630  # 15 req/s x 60 s x 70%
    assert model["derived"]["configured_requests_per_target"] == 1000
    assert outcome.verdict == "pass" and outcome.exit_code == 1  # the budgets held; the gate
    for name in ("summary.md", "report.html"):
        assert "max too low" in (tmp_path / name).read_text()

    ungated = run_suite(
        STRESS,
        "http://127.0.0.1:9",
        tmp_path / "b",
        target_kind="local",
        environment=_env(expected_peak_rps=100),
    )
    assert ungated.exit_code == 0 and ungated.results["capacity"]["verdict"] == MAX_TOO_LOW


def test_instances_in_service_come_from_the_server_section() -> None:
    doc = {
        "scenarios": [
            {
                "name": "stress",
                "kind": "stress",
                "config": {"step_every": 10.0},
                "analysis": {
                    "knee_rate": 300,
                    "steps": [{"rate": 300, "start_s": 20, "achieved_rps": 300.0}],
                },
            }
        ],
        "server": {
            "scenarios": [
                {
                    "scenario": "stress",
                    "series": [{"t": t, "in_service": 3 if t >= 20 else 2} for t in range(40)],
                }
            ]
        },
    }
    model = capacity_model(doc, _env(expected_peak_rps=200))
    assert model is not None
    assert (model["instances_in_service"], model["instances_from"]) == (3, "server telemetry")
    assert model["per_instance_rps"] == pytest.approx(100)
    assert model["verdict"] == "max carries the expected peak" and model["headroom"] == 1.0


def test_cli_capacity_reads_stored_stress_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _knee_at_30(monkeypatch)
    run_suite(STRESS, "http://127.0.0.1:9", tmp_path, release="2.0.0", target_kind="local")
    result = CliRunner().invoke(app, ["capacity", "--release", "2.0.0", "--format", "json"])
    assert result.exit_code == 0, result.output
    model = json.loads(result.stdout)
    assert model["per_instance_rps"] == pytest.approx(15)
    assert model["fleet_capacity_rps"] == pytest.approx(60)
    table = CliRunner().invoke(app, ["capacity", "--release", "2.0.0"])
    assert "capacity per instance: 15.0 req/s" in table.stdout
    assert "fleet capacity at max (4): 60 req/s" in table.stdout
    assert "requests_per_target at 70% utilization: 630 a minute" in table.stdout
    missing = CliRunner().invoke(app, ["capacity", "--release", "9.9.9"])
    assert missing.exit_code == 2 and "has a stress scenario with a knee" in missing.stderr


def test_cli_capacity_says_max_too_low_for_a_peak_above_the_fleet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, repo: Path
) -> None:
    import shutil

    import yaml

    _knee_at_30(monkeypatch)
    run_suite(STRESS, "http://127.0.0.1:9", tmp_path, release="2.0.0", target_kind="local")
    stacks = tmp_path / "stacks"
    shutil.copytree(repo / "stacks", stacks)
    perf = stacks / "Pulumi.perf.yaml"
    data = yaml.safe_load(perf.read_text())
    data["config"]["perfenv:environment"]["capacity"] = {"expected_peak_rps": 100, "gate": True}
    perf.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("PERFENV_STACKS_DIR", str(stacks))
    result = CliRunner().invoke(app, ["capacity", "--release", "2.0.0"])
    assert result.exit_code == 1, result.output
    assert "capacity of release 2.0.0: max too low" in result.stdout
    assert "headroom -40% (-40 req/s); max too low (max 7 would carry it)" in result.stdout
