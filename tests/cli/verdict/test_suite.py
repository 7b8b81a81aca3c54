from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perfenv.cli.errors import BadInput
from perfenv.cli.main import app
from perfenv.cli.verdict.scenarios import SpikeScenario, StressScenario
from perfenv.cli.verdict.suite import load_suite, parse_suite, planned_duration_s

SHIPPED = ("smoke.yaml", "release.yaml")


def _suite(scenarios: list[dict[str, object]], **fields: object) -> dict[str, object]:
    return {"name": "t", "requests": [{"path": "/items"}], "scenarios": scenarios, **fields}


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_suites_load(repo: Path, name: str) -> None:
    suite = load_suite(repo / "suites" / name)
    assert suite.scenarios
    assert {r.path for r in suite.requests} == {"/items", "/health"}


def test_smoke_suite_takes_about_ten_seconds(repo: Path) -> None:
    assert 5 <= planned_duration_s(load_suite(repo / "suites" / "smoke.yaml")) <= 15


def test_release_suite_has_every_kind_and_runs_minutes(repo: Path) -> None:
    suite = load_suite(repo / "suites" / "release.yaml")
    assert {s.kind for s in suite.scenarios} == {
        "load",
        "spike",
        "stress",
        "soak",
        "scale",
        "failover",
    }
    assert 120 <= planned_duration_s(suite) <= 3600


def test_planned_duration_counts_repeats(repo: Path) -> None:
    suite = load_suite(repo / "suites" / "smoke.yaml")
    assert planned_duration_s(suite, repeat=3) == 3 * planned_duration_s(suite)


def test_load_shape_is_steady() -> None:
    suite = parse_suite(_suite([{"name": "l", "kind": "load", "rate": 20, "duration": "5s"}]))
    assert suite.scenarios[0].rates() == (20.0,) * 5


def test_spike_shape_is_base_peak_base() -> None:
    raw = {"name": "s", "kind": "spike", "base_rate": 10, "peak_rate": 50}
    raw.update(spike_at="2s", spike_for="3s", duration="8s")
    scenario = parse_suite(_suite([raw])).scenarios[0]
    assert isinstance(scenario, SpikeScenario)
    assert scenario.rates() == (10, 10, 50, 50, 50, 10, 10, 10)


def test_stress_shape_steps_up_to_max_rate() -> None:
    raw = {"name": "x", "kind": "stress", "start_rate": 50, "step_rate": 50}
    raw.update(step_every="2s", max_rate=160)
    scenario = parse_suite(_suite([raw])).scenarios[0]
    assert isinstance(scenario, StressScenario)
    assert scenario.step_rates == (50, 100, 150)
    assert scenario.rates() == (50, 50, 100, 100, 150, 150)


def test_plan_carries_rates_warmup_and_requests() -> None:
    suite = parse_suite(
        _suite([{"name": "l", "kind": "load", "rate": 5, "duration": "4s", "warmup": "1s"}])
    )
    plan = suite.plan(suite.scenarios[0], "http://127.0.0.1:9", workers=2)
    assert plan.rates == (5.0,) * 4
    assert plan.warmup_s == 1
    assert plan.workers == 2
    assert plan.requests[0].endpoint == "GET /items"


def test_scenario_budget_replaces_the_suites_on_the_same_metric() -> None:
    raw = {"name": "l", "kind": "load", "rate": 5, "duration": "4s", "budgets": ["p95 < 1s"]}
    suite = parse_suite(_suite([raw], budgets=["p95 < 250ms", "error_rate < 1%"]))
    texts = [b.text for b in suite.budgets_for(suite.scenarios[0])]
    assert texts == ["error_rate < 1%", "p95 < 1s"]


@pytest.mark.parametrize(
    ("body", "line"),
    [
        (
            "scenarios:\n  - {name: a, kind: load, rate: 5, duration: 5s, colour: red}\n",
            "bad.yaml: scenarios[0].colour: unknown key",
        ),
        (
            "scenarios:\n  - {name: a, kind: load, rate: 5, duration: 5s}\n"
            "  - {name: b, kind: load, rate: -3, duration: 5s}\n",
            "bad.yaml: scenarios[1].rate: must be > 0",
        ),
        (
            "scenarios:\n  - {name: a, kind: load, rate: 5, duration: soon}\n",
            "bad.yaml: scenarios[0].duration: not a duration",
        ),
        (
            "scenarios:\n  - {name: a, kind: load, rate: 5, duration: 5s}\n"
            "budgets: ['p95 is small']\n",
            "bad.yaml: budgets[0]: not a budget",
        ),
        ("scenarios:\n  - {name: a, kind: ramp}\n", "bad.yaml: scenarios[0]: kind must be one"),
        ("surprise: 1\nscenarios: []\n", "bad.yaml: surprise: unknown key"),
    ],
)
def test_malformed_suite_names_file_and_field(tmp_path: Path, body: str, line: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nrequests: [{path: /items}]\n" + body)
    with pytest.raises(BadInput) as caught:
        load_suite(path)
    assert any(
        text.startswith(str(tmp_path / line.split(":")[0]) + line[len("bad.yaml") :])
        for text in str(caught.value).splitlines()
    ), str(caught.value)


@pytest.mark.parametrize(
    ("scenario", "field"),
    [
        ({"kind": "load", "rate": 5, "duration": "5s", "warmup": "5s"}, "warmup"),
        (
            {"kind": "spike", "base_rate": 10, "peak_rate": 5, "spike_at": "1s"}
            | {"spike_for": "1s", "duration": "5s"},
            "peak_rate",
        ),
        (
            {"kind": "spike", "base_rate": 1, "peak_rate": 5, "spike_at": "4s"}
            | {"spike_for": "3s", "duration": "5s"},
            "spike_for",
        ),
        (
            {"kind": "stress", "start_rate": 50, "step_rate": 10, "step_every": "5s"}
            | {"max_rate": 10},
            "max_rate",
        ),
    ],
)
def test_inconsistent_shapes_are_refused(scenario: dict[str, object], field: str) -> None:
    with pytest.raises(BadInput, match=rf"x.yaml: scenarios\[0\]\.{field}: "):
        parse_suite(_suite([{"name": "a", **scenario}]), "x.yaml")


def test_engine_needs_its_inputs() -> None:
    scenarios = [{"name": "a", "kind": "load", "rate": 1, "duration": "1s"}]
    with pytest.raises(BadInput, match="x.yaml: command: required"):
        parse_suite({"name": "c", "engine": "command", "scenarios": scenarios}, "x.yaml")
    with pytest.raises(BadInput, match="x.yaml: requests: required"):
        parse_suite({"name": "l", "scenarios": scenarios}, "x.yaml")


def test_duplicate_scenario_names_are_refused() -> None:
    one = {"name": "a", "kind": "load", "rate": 1, "duration": "1s"}
    with pytest.raises(BadInput, match="scenarios: scenario name 'a' is used twice"):
        parse_suite(_suite([one, one]), "x.yaml")


def test_missing_locustfile_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nlocustfile: nowhere.py\n"
        "scenarios: [{name: a, kind: load, rate: 1, duration: 1s}]\n"
    )
    with pytest.raises(BadInput, match="s.yaml: locustfile: no such file: nowhere.py"):
        load_suite(path)


def test_locustfile_resolves_relative_to_the_checkout(repo: Path, tmp_path: Path) -> None:
    path = repo / "suites" / "catalog-test-tmp.yaml"
    try:
        path.write_text(
            "name: s\nlocustfile: suites/catalog.py\n"
            "scenarios: [{name: a, kind: load, rate: 1, duration: 1s}]\n"
        )
        suite = load_suite(path)
    finally:
        path.unlink()
    assert suite.locustfile == (repo / "suites" / "catalog.py").resolve()


def test_not_yaml_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(BadInput, match=r"s.yaml: not valid YAML \(line \d+\)"):
        load_suite(path)


@pytest.mark.parametrize(
    ("scenario", "field"),
    [
        ("{name: a, kind: load, rate: 5, duration: 5s, colour: red}", "scenarios[0].colour"),
        ("{name: a, kind: load, rate: -1, duration: 5s}", "scenarios[0].rate"),
        ("{name: a, kind: load, rate: 5, duration: 5 parsecs}", "scenarios[0].duration"),
    ],
)
def test_cli_exits_2_with_one_line_for_a_malformed_suite(
    tmp_path: Path, scenario: str, field: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: bad\nrequests: [{{path: /items}}]\nscenarios:\n  - {scenario}\n")
    result = CliRunner().invoke(
        app, ["test", "--url", "http://127.0.0.1:9", "--suite", str(path), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"perfenv: {path}: {field}: ")


def test_cli_exits_2_for_an_unparsable_budget(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: bad\nrequests: [{path: /items}]\n"
        "scenarios: [{name: a, kind: load, rate: 5, duration: 5s}]\nbudgets: ['p95 < quick']\n"
    )
    result = CliRunner().invoke(
        app, ["test", "--url", "http://127.0.0.1:9", "--suite", str(path), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"perfenv: {path}: budgets[0]: threshold 'quick' in 'p95 < quick' is not a latency"
        " like 250ms or 1s"
    ]


def test_the_release_suites_repeats_are_the_ones_the_readme_chose(repo: Path) -> None:
    """ADR 0038: the README's "Power of the gate" names the release suite's `repeat:` and its
    planned load; the suite must say the same."""
    readme = (repo / "README.md").read_text()
    section = readme[readme.index("### Power of the gate") :]
    section = section[: section.index("\n### ")]
    chosen = re.search(r"The release suite keeps `repeat: (\d+)`", section)
    planned = re.search(r"plans (\d+) s of load instead of (\d+) s", section)
    assert chosen and planned, "the README's power section names no repeat: and planned load"
    suite = load_suite(repo / "suites" / "release.yaml")
    assert suite.repeat == int(chosen.group(1))
    assert planned_duration_s(suite) == int(planned.group(1))
    assert planned_duration_s(suite, repeat=1) == int(planned.group(2))
