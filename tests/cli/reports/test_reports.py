from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from perfenv.cli.reports.html import report_html
from perfenv.cli.reports.junit import junit_xml
from perfenv.cli.reports.markdown import summary_md
from perfenv.cli.verdict.judge import judge_suite
from perfenv.cli.verdict.results import build_results, schema_errors
from perfenv.cli.verdict.suite import parse_suite
from tests.cli.synthetic import lognormal, measurement

SUITE = parse_suite(
    {
        "name": "demo",
        "requests": [{"path": "/items"}],
        "scenarios": [
            {"name": "load", "kind": "load", "rate": 20, "duration": "6s", "warmup": "1s"},
            {"name": "ramp", "kind": "stress", "start_rate": 10, "step_rate": 10}
            | {"step_every": "2s", "max_rate": 30},
        ],
        "budgets": ["p95 < 100ms", "error_rate < 1%"],
    }
)


def _doc(median_ms: float = 20, **extra: Any) -> dict[str, Any]:
    scenarios = {s.name: s for s in SUITE.scenarios}
    runs: dict[str, list[Any]] = {
        name: [measurement(name, s.rates(), latency=lognormal(median_ms), warmup_s=s.warmup_s)]
        for name, s in scenarios.items()
    }
    verdict = judge_suite(SUITE, runs)
    plans = {s.name: SUITE.plan(s, "http://127.0.0.1:9") for s in SUITE.scenarios}
    return build_results(
        suite=SUITE,
        verdict=verdict,
        plans=plans,
        runs=runs,
        run_id="20261127T000000Z-abcdef",
        target={"url": "http://127.0.0.1:9", "kind": "url"},
        release="1.2.3",
        started_at="2026-11-27T00:00:00+00:00",
        finished_at="2026-11-27T00:00:12+00:00",
        exit_code=verdict.exit_code,
        extra=extra,
    )


def test_results_document_validates_and_keeps_what_rejudging_needs() -> None:
    doc = _doc(environment={"stack": "perf-x"}, cost={"total_usd": 0.42, "currency": "USD"})
    assert schema_errors(doc) == []
    load = doc["scenarios"][0]
    assert load["plan"]["rates"] == [20.0] * 6
    assert len(load["runs"][0]["windows"]) == 6
    assert load["runs"][0]["windows"][0]["histogram"]
    assert set(doc["versions"]) >= {"perfenv", "python", "locust"}
    assert doc["environment"] == {"stack": "perf-x"}


def test_schema_catches_a_broken_document() -> None:
    doc = _doc()
    doc["verdict"] = "maybe"
    del doc["scenarios"][0]["runs"][0]["windows"][0]["histogram"]
    errors = schema_errors(doc)
    assert any(e.startswith("verdict:") for e in errors)
    assert any("scenarios.0.runs.0" in e for e in errors)


def test_junit_has_a_case_per_scenario_and_budget() -> None:
    root = ET.fromstring(junit_xml(_doc()))
    names = [c.get("name") for c in root.iter("testcase")]
    assert names.count("budget p95 < 100ms") == 2
    assert "scenario load (load)" in names
    assert "scenario ramp (stress)" in names
    assert root.get("tests") == "6"
    assert root.get("failures") == "0"


def test_junit_failure_names_the_breached_budget() -> None:
    root = ET.fromstring(junit_xml(_doc(median_ms=400)))
    failure = root.find(".//testcase[@name='budget p95 < 100ms']/failure")
    assert failure is not None
    assert (failure.get("message") or "").startswith("budget p95 < 100ms breached: measured")


def test_summary_md_has_verdict_table_planned_vs_achieved_and_shapes() -> None:
    text = summary_md(_doc())
    assert text.startswith("## perfenv · demo: ✅ pass")
    assert "| scenario | kind | verdict | planned req/s | achieved req/s |" in text
    assert "| load | load | ✅ pass | 20.0 | 20.0 |" in text
    assert "**ramp** (stress)" in text


def test_summary_md_shows_a_regression_and_the_cost() -> None:
    comparison = {
        "baseline": "release 1.2.2",
        "regressed": True,
        "scenarios": [
            {
                "scenario": "load",
                "regressed": True,
                "summary": "p95 +30.0%",
                "metrics": [
                    {"metric": "p95", "baseline_text": "20.0ms", "candidate_text": "26.0ms"}
                    | {"change": 0.3, "threshold": 0.05, "p_value": 0.001, "regressed": True}
                ],
            }
        ],
    }
    text = summary_md(_doc(comparison=comparison, cost={"total_usd": 1.5}))
    assert "❌ regression" in text.splitlines()[0]
    assert "| load | p95 | 20.0ms | 26.0ms | +30.0% | 5.0% | 0.001 | regressed |" in text
    assert "### Cost of the run" in text
    root = ET.fromstring(junit_xml(_doc(comparison=comparison)))
    regression = root.find(".//testcase[@name='no regression vs release 1.2.2']/failure")
    assert regression is not None


def test_report_html_is_self_contained_with_matplotlib_plots() -> None:
    page = report_html(_doc(cost={"total_usd": 0.42, "currency": "USD"}))
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 2  # a figure per scenario
    assert "Matplotlib" in page or "matplotlib" in page
    for title in ("target vs achieved rate", "latency over time", "errors per second"):
        assert title in page
    assert "latency by percentile" in page
    assert "Cost of the run" in page and "0.42" in page
    for external in ("<script src", "<link ", '<img src="http'):
        assert external not in page


@pytest.mark.parametrize("verdict", ["pass", "fail"])
def test_report_html_headline_shows_the_verdict(verdict: str) -> None:
    page = report_html(_doc(median_ms=20 if verdict == "pass" else 400))
    assert f'<span class="{verdict}">{verdict}</span>' in page
