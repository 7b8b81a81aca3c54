"""The scale and failover kinds: their shapes, budgets and what they read from the events."""

from __future__ import annotations

import re

import pytest

from perfenv.cli.errors import BadInput
from perfenv.cli.verdict.behaviour import Events
from perfenv.cli.verdict.budgets import parse_budget, value_text
from perfenv.cli.verdict.judge import judge_suite
from perfenv.cli.verdict.suite import Suite, parse_suite
from tests.cli.synthetic import lognormal, measurement

SCALE = {
    "name": "scale-out",
    "kind": "scale",
    "base_rate": 20,
    "rate": 60,
    "step_at": "10s",
    "duration": "60s",
    "warmup": "5s",
    "budgets": ["scale_out_time < 3m", "recovery_time < 60s", "in_service_time < 90s"],
}
FAILOVER = {
    "name": "lose-one",
    "kind": "failover",
    "rate": 50,
    "fail_at": "20s",
    "duration": "60s",
    "warmup": "5s",
    "budgets": ["failover_errors < 2%", "recovery_time < 90s", "detection_time < 60s"],
}


def _suite(*scenarios: dict[str, object]) -> Suite:
    return parse_suite(
        {
            "name": "t",
            "requests": [{"path": "/items"}],
            "scenarios": list(scenarios),
            "budgets": ["p95 < 100ms"],
        }
    )


def test_shapes() -> None:
    scale, failover = _suite(SCALE, FAILOVER).scenarios
    assert scale.rates()[:10] == (20.0,) * 10 and scale.rates()[10:] == (60.0,) * 50
    assert failover.rates() == (50.0,) * 60 and failover.duration_s == 60


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({**SCALE, "rate": 10}, "scenarios[0].rate: must be > base_rate (20)"),
        ({**SCALE, "duration": "5s"}, "scenarios[0].duration: must be longer than step_at (10s)"),
        ({**SCALE, "warmup": "20s"}, "scenarios[0].warmup: must end before step_at (10s)"),
        ({**FAILOVER, "fail_at": "90s"}, "scenarios[0].duration: must be longer than fail_at"),
        ({**FAILOVER, "fail_at": 0}, "scenarios[0].fail_at: must be > 0"),
        ({**FAILOVER, "budgets": ["failover_errors < soon"]}, "is not a percentage"),
        ({**SCALE, "budgets": ["scale_out_time < fast"]}, "is not a duration like 90s or 3m"),
    ],
)
def test_bad_input_is_one_line_per_problem(change: dict[str, object], words: str) -> None:
    with pytest.raises(BadInput, match=re.escape(words)):
        _suite(change)


def test_time_budgets_are_seconds() -> None:
    budget = parse_budget("scale_out_time < 3m")
    assert budget.threshold == 180.0 and budget.unit == "s"
    assert value_text("recovery_time", 42.25) == "42.2s"
    assert parse_budget("failover_errors < 2%").threshold == pytest.approx(0.02)


def test_scale_reads_the_scale_out_the_new_instances_and_the_recovery() -> None:
    suite = _suite(SCALE)
    # slow after the step until the new instance serves (t = 30), fast again after
    run = measurement(
        "scale-out",
        suite.scenarios[0].rates(),
        latency=lambda t, rng: rng.lognormvariate(5.3, 0.1) if 10 <= t < 30 else 20.0,
        warmup_s=5,
    )
    events = Events(scale_outs=(14.5,), in_service=((0.0, 2), (27.0, 3)))
    scenario = judge_suite(suite, {"scale-out": [run]}, {"scale-out": [events]}).scenarios[0]
    analysis = scenario.analysis
    assert analysis["scale_out_time_s"] == 4.5
    assert analysis["in_service_time_s"] == 17.0
    assert (analysis["in_service_before"], analysis["in_service_after"]) == (2, 3)
    assert analysis["recovery_time_s"] == 20  # p95 back under 100 ms at t = 30
    assert scenario.stats["scale_out_time"] == 4.5
    verdicts = {b.budget.metric: b.verdict for b in scenario.budgets}
    assert verdicts["scale_out_time"] == "pass" and verdicts["recovery_time"] == "pass"
    assert verdicts["p95"] == "fail"  # the suite's p95 over the whole run still counts


def test_a_fleet_that_never_scaled_fails_its_scale_budget_as_not_measured() -> None:
    suite = _suite(SCALE)
    run = measurement("scale-out", suite.scenarios[0].rates(), latency=lognormal(20), warmup_s=5)
    scenario = judge_suite(suite, {"scale-out": [run]}, {"scale-out": [Events()]}).scenarios[0]
    verdicts = {b.budget.metric: b.verdict for b in scenario.budgets}
    assert verdicts["scale_out_time"] == "invalid" and scenario.verdict == "invalid"
    assert scenario.analysis["scaled_out"] is False
    assert "scale_out_time < 3m: not measured" in scenario.reason


def test_failover_reads_detection_replacement_errors_and_recovery() -> None:
    suite = _suite(FAILOVER)
    # half the requests fail from the loss (t = 20) until the balancer stops sending (t = 30)
    run = measurement(
        "lose-one",
        suite.scenarios[0].rates(),
        latency=lognormal(20),
        error_rate=lambda t: 0.5 if 20 <= t < 30 else 0.0,
        warmup_s=5,
    )
    events = Events(lost_instance="i-1", lost_at=20.0, stopped_sending_at=29.5, replaced_at=41.0)
    scenario = judge_suite(suite, {"lose-one": [run]}, {"lose-one": [events]}).scenarios[0]
    analysis = scenario.analysis
    assert analysis["detection_time_s"] == 9.5 and analysis["replacement_time_s"] == 21.0
    assert analysis["recovery_time_s"] == 10.0
    assert 200 < analysis["errors_during_event"] < 300
    assert analysis["failover_errors"] == pytest.approx(0.5, abs=0.07)  # the event: t 20 .. 30
    verdicts = {b.budget.metric: b.verdict for b in scenario.budgets}
    assert verdicts["failover_errors"] == "fail" and verdicts["detection_time"] == "pass"
    assert analysis["events"]["lost_instance"] == "i-1"
    assert Events.from_dict(analysis["events"]) == events


def test_with_repeats_the_slowest_recovery_is_reported() -> None:
    suite = _suite(FAILOVER)
    rates = suite.scenarios[0].rates()
    quick = measurement("lose-one", rates, error_rate=lambda t: 0.5 if 20 <= t < 25 else 0.0)
    slow = measurement("lose-one", rates, error_rate=lambda t: 0.5 if 20 <= t < 40 else 0.0)
    both = [Events(lost_at=20.0), Events(lost_at=20.0)]
    analysis = (
        judge_suite(suite, {"lose-one": [quick, slow]}, {"lose-one": both}).scenarios[0].analysis
    )
    assert analysis["recovery_time_s"] == 20.0 and analysis["runs"] == 2


def test_a_steady_scenario_keeps_the_alarm_transitions_of_its_window() -> None:
    suite = parse_suite(
        {
            "name": "t",
            "requests": [{"path": "/items"}],
            "scenarios": [{"name": "load", "kind": "load", "rate": 10, "duration": "5s"}],
        }
    )
    run = measurement("load", suite.scenarios[0].rates())
    flip = {"t": 3.0, "alarm": "perf-5xx-rate", "from": "OK", "to": "ALARM"}
    scenario = judge_suite(suite, {"load": [run]}, {"load": [Events(alarms=(flip,))]}).scenarios[0]
    assert scenario.analysis["events"]["alarms"] == [flip]
    quiet = judge_suite(suite, {"load": [run]}, {"load": [Events()]}).scenarios[0]
    assert "events" not in quiet.analysis
