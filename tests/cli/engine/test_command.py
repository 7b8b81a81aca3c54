from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

from perfenv.cli.engine.command import from_k6_summary, run_command
from perfenv.cli.errors import BadInput
from perfenv.cli.lifecycle.testrun import run_suite
from perfenv.cli.verdict.judge import judge_suite
from perfenv.cli.verdict.measurement import SummaryRun
from perfenv.cli.verdict.suite import Suite, parse_suite


def k6_summary(p95: float, *, failed: float = 0.0, count: int = 50, **more: Any) -> dict[str, Any]:
    """The shape of `k6 run --summary-export` (trend values in ms)."""
    return {
        "state": {"testRunDurationMs": 5000},
        "metrics": {
            "http_req_duration": {"avg": p95 / 2, "min": 1.0, "med": p95 / 2, "max": p95 * 2}
            | {"p(90)": p95 * 0.9, "p(95)": p95},
            "http_reqs": {"count": count, "rate": count / 5},
            "http_req_failed": {"passes": 0, "fails": count, "value": failed},
            **more,
        },
    }


def _suite(command: str | list[str], budgets: list[str]) -> Suite:
    return parse_suite(
        {
            "name": "k6",
            "engine": "command",
            "command": command,
            "scenarios": [{"name": "load", "kind": "load", "rate": 10, "duration": "5s"}],
            "budgets": budgets,
        }
    )


def _writer(tmp_path: Path, document: dict[str, Any]) -> str:
    """A command that writes `document` to PERFENV_RESULTS_PATH and records its environment."""
    source = tmp_path / "doc.json"
    source.write_text(json.dumps(document))
    script = (
        "import json, os, shutil; "
        f"shutil.copy({str(source)!r}, os.environ['PERFENV_RESULTS_PATH']); "
        f"json.dump(dict(os.environ), open({str(tmp_path / 'env.json')!r}, 'w'))"
    )
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}"


def test_k6_summary_is_judged_from_its_percentiles(tmp_path: Path) -> None:
    suite = _suite(_writer(tmp_path, k6_summary(80.0)), ["p95 < 100ms", "throughput >= 95%"])
    plan = suite.plan(suite.scenarios[0], "http://127.0.0.1:9")
    runs = run_command(suite, plan, tmp_path / "work")
    assert isinstance(runs[0], SummaryRun)
    assert runs[0].stats["p95"] == 80.0
    verdict = judge_suite(suite, {"load": runs})
    assert verdict.verdict == "pass"
    env = json.loads((tmp_path / "env.json").read_text())
    assert env["PERFENV_TARGET_URL"] == "http://127.0.0.1:9"
    assert env["PERFENV_SCENARIO"] == "load"
    assert env["PERFENV_DURATION_S"] == "5"


def test_k6_summary_breach_fails_the_budget(tmp_path: Path) -> None:
    suite = _suite(_writer(tmp_path, k6_summary(150.0, failed=0.1)), ["p95 < 100ms"])
    outcome = run_suite(suite, "http://127.0.0.1:9", tmp_path / "out", baseline=None)
    assert outcome.exit_code == 1
    assert outcome.results["scenarios"][0]["runs"][0]["source"] == "summary"
    assert (tmp_path / "out" / "report.html").exists()


def test_k6_handle_summary_layout_is_read_too() -> None:
    suite = _suite("true", [])
    plan = suite.plan(suite.scenarios[0], "http://127.0.0.1:9")
    nested = {
        "metrics": {
            "http_req_duration": {"type": "trend", "values": {"med": 5.0, "p(95)": 9.0}},
            "http_reqs": {"type": "counter", "values": {"count": 50, "rate": 10}},
            "http_req_failed": {"type": "rate", "values": {"rate": 0.02}},
        }
    }
    run = from_k6_summary("load", nested, plan, "2026-11-27T00:00:00+00:00")
    assert isinstance(run, SummaryRun)
    assert (run.stats["p50"], run.stats["p95"], run.stats["error_rate"]) == (5.0, 9.0, 0.02)
    assert run.stats["throughput"] == 1.0


def test_k6_dropped_iterations_make_the_run_invalid() -> None:
    suite = _suite("true", [])
    plan = suite.plan(suite.scenarios[0], "http://127.0.0.1:9")
    data = k6_summary(10.0, count=30, dropped_iterations={"count": 20, "rate": 4})
    run = from_k6_summary("load", data, plan, "2026-11-27T00:00:00+00:00")
    assert run.generator.valid is False
    assert "dropped 20 of 50" in run.generator.reason


def test_our_own_results_schema_is_read_back(tmp_path: Path) -> None:
    from tests.cli.reports.test_reports import _doc

    document = _doc()  # scenarios "load" and "ramp" in perfenv's schema
    suite = _suite(_writer(tmp_path, document), ["p95 < 100ms"])
    outcome = run_suite(suite, "http://127.0.0.1:9", tmp_path / "out", baseline=None)
    assert outcome.exit_code == 0
    assert outcome.results["scenarios"][0]["runs"][0]["source"] == "histogram"


def test_a_command_that_writes_nothing_is_an_invalid_run(tmp_path: Path) -> None:
    suite = _suite([sys.executable, "-c", "print('no results')"], ["p95 < 100ms"])
    outcome = run_suite(suite, "http://127.0.0.1:9", tmp_path / "out", baseline=None)
    assert outcome.exit_code == 4
    assert "exited 0 without writing results" in outcome.results["scenarios"][0]["reason"]


def test_a_missing_command_is_bad_input(tmp_path: Path) -> None:
    suite = _suite(["/nonexistent/k6", "run"], [])
    plan = suite.plan(suite.scenarios[0], "http://127.0.0.1:9")
    with pytest.raises(BadInput, match="command: cannot run"):
        run_command(suite, plan, tmp_path)
