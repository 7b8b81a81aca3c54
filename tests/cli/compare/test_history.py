"""`perfenv history` over stored releases with realistic noise: change points and the trend."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perfenv.cli.compare.history import change_points, history, trend
from perfenv.cli.main import app
from perfenv.cli.state.results import put_results
from perfenv.cli.state.store import Store, open_store
from perfenv.cli.verdict.results import run_record
from tests.cli.synthetic import lognormal, measurement

RELEASES = [f"1.{i}.0" for i in range(10)]
NOISE = 0.07  # run to run, as the reference service shows on this machine
RUNS = 5  # per release: the release suite's repeats


def _store(level: Callable[[int], float], seed: int, suite: str = "smoke") -> Store:
    """Ten releases of `RUNS` runs each; run r of release i has a p95 near level(i) x noise."""
    store = open_store()
    rng = random.Random(seed)
    for i, release in enumerate(RELEASES):
        for r in range(RUNS):
            factor = level(i) * math.exp(rng.gauss(0, NOISE))
            run = measurement(
                "load", [40] * 30, latency=lognormal(20 * factor, 0.2), seed=rng.randrange(10**6)
            )
            doc = {
                "suite": {"name": suite},
                "target": {"kind": "local"},
                "release": release,
                "run_id": f"20260{i + 1:02d}01T0000{r:02d}Z-{seed:06d}",
                "scenarios": [{"name": "load", "verdict": "pass", "runs": [run_record(run)]}],
            }
            put_results(store, doc)
    return store


def test_a_15_percent_step_at_the_sixth_release_is_one_change_point() -> None:
    store = _store(lambda i: 1.15 if i >= 5 else 1.0, seed=1)
    (scenario,) = history(store, "smoke")["scenarios"]
    assert scenario["change_points"] == ["1.5.0"]
    assert [p["release"] for p in scenario["releases"]] == RELEASES
    assert all(p["runs"] == RUNS for p in scenario["releases"])


def test_a_steady_noisy_series_has_no_change_point() -> None:
    store = _store(lambda i: 1.0, seed=2)
    (scenario,) = history(store, "smoke")["scenarios"]
    assert scenario["change_points"] == []
    assert not scenario["trend"]["flagged"]


def test_a_2_percent_drift_over_the_last_five_releases_is_flagged() -> None:
    # At 7% run-to-run noise and five runs a release, the check flags such a drift in about
    # 60% of simulated histories (this fixture is one of them; README, "History"): a drift of
    # 2% a release is near what five releases can show at all.
    store = _store(lambda i: 1.0 if i < 5 else 1.02 ** (i - 4), seed=4)
    (scenario,) = history(store, "smoke")["scenarios"]
    assert scenario["trend"]["flagged"], scenario["trend"]
    assert scenario["trend"]["releases"] == RELEASES[5:]
    assert scenario["trend"]["slope_per_release"] == pytest.approx(0.02, abs=0.015)


def test_change_points_and_trend_need_enough_releases() -> None:
    assert change_points([[1.0], [1.1], [1.2]]) == []
    assert trend(["a", "b"], [[1.0], [1.1]]) is None


def test_cli_history_prints_the_table_json_and_html() -> None:
    _store(lambda i: 1.15 if i >= 5 else 1.0, seed=1)
    runner = CliRunner()
    table = runner.invoke(app, ["history", "--suite", "smoke"])
    assert table.exit_code == 0, table.output
    assert "change point" in table.stdout and "1.5.0" in table.stdout
    assert "trend load:" in table.stdout
    doc = json.loads(runner.invoke(app, ["history", "--suite", "smoke", "--format", "json"]).stdout)
    assert doc["scenarios"][0]["change_points"] == ["1.5.0"]
    page = runner.invoke(app, ["history", "--suite", "smoke", "--format", "html"]).stdout
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "change point" in page
    missing = runner.invoke(app, ["history", "--suite", "nope"])
    assert missing.exit_code == 2 and "no results of suite 'nope'" in missing.stderr
    bad = runner.invoke(app, ["history", "--suite", "smoke", "--metric", "p42"])
    assert bad.exit_code == 2


def test_a_run_with_a_release_shows_the_trend_with_its_change_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from perfenv.cli.lifecycle.testrun import run_suite
    from perfenv.cli.verdict.suite import parse_suite
    from tests.cli.lifecycle.test_testrun import fake_engine

    _store(lambda i: 1.15 if i >= 5 else 1.0, seed=1)
    fake_engine(monkeypatch, lognormal(23))
    suite = parse_suite(
        {
            "name": "smoke",
            "requests": [{"path": "/items"}],
            "scenarios": [{"name": "load", "kind": "load", "rate": 40, "duration": "30s"}],
        }
    )
    outcome = run_suite(
        suite, "http://127.0.0.1:9", tmp_path, release="1.10.0", target_kind="local"
    )
    (scenario,) = outcome.results["history"]["scenarios"]
    assert [p["release"] for p in scenario["releases"]] == [*RELEASES[1:], "1.10.0"]
    assert scenario["change_points"] == ["1.5.0"]
    summary = (tmp_path / "summary.md").read_text()
    assert "### Trend of the last releases" in summary and "change point at 1.5.0" in summary
    report = (tmp_path / "report.html").read_text()
    assert "load: p95 by release" in report and "change point at 1.5.0" in report
