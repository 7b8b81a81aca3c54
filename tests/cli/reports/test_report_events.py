"""Scale and failover results in the reports: their readings, and events on the time axis."""

from __future__ import annotations

from typing import Any

from perfenv.cli.reports.html import report_html
from perfenv.cli.reports.markdown import summary_md
from perfenv.cli.verdict.behaviour import Events
from perfenv.cli.verdict.judge import judge_suite
from perfenv.cli.verdict.results import build_results, schema_errors
from perfenv.cli.verdict.suite import parse_suite
from tests.cli.synthetic import lognormal, measurement

SUITE = parse_suite(
    {
        "name": "behave",
        "requests": [{"path": "/items"}],
        "scenarios": [
            {"name": "grow", "kind": "scale", "base_rate": 10, "rate": 40}
            | {"step_at": "4s", "duration": "20s", "budgets": ["scale_out_time < 3m"]},
            {"name": "lose", "kind": "failover", "rate": 20, "fail_at": "5s", "duration": "20s"}
            | {"budgets": ["failover_errors < 2%"]},
        ],
        "budgets": ["p95 < 100ms"],
    }
)
EVENTS = {
    "grow": [
        Events(
            scale_outs=(6.0,),
            in_service=((0.0, 2), (9.0, 3)),
            alarms=(
                {"t": 5.5, "alarm": "TargetTracking-asg-AlarmHigh-x", "from": "OK", "to": "ALARM"},
            ),
        )
    ],
    "lose": [Events(lost_instance="i-1", lost_at=5.0, stopped_sending_at=8.0, replaced_at=12.0)],
}


def _doc() -> dict[str, Any]:
    runs: dict[str, list[Any]] = {
        s.name: [measurement(s.name, s.rates(), latency=lognormal(20))] for s in SUITE.scenarios
    }
    verdict = judge_suite(SUITE, runs, EVENTS)
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
        finished_at="2026-11-27T00:00:42+00:00",
        exit_code=verdict.exit_code,
    )


def test_results_validate_with_the_new_kinds_and_budgets() -> None:
    doc = _doc()
    assert schema_errors(doc) == []
    grow = doc["scenarios"][0]
    assert grow["analysis"]["scale_out_time_s"] == 2.0
    assert grow["budgets"][-1]["unit"] == "s"


def test_summary_reads_scale_and_failover() -> None:
    text = summary_md(_doc())
    assert "**grow** (scale): first scale-out 2.0 s after the breach; in service 2 → 3" in text
    assert "**lose** (failover): lost i-1 at 5 s" in text
    assert "balancer stopped sending after 3.0 s; replacement in service after 7.0 s" in text


def test_report_draws_the_in_service_count_and_the_alarm_transition() -> None:
    page = report_html(_doc())
    assert page.count("<svg") == 2
    assert "instances in service" in page
    assert "TargetTracking-asg-AlarmHigh-x OK→ALARM" in page
