from __future__ import annotations

import math
import random

import pytest

from perfenv.cli.verdict.judge import exit_code, judge_scenario, judge_suite
from perfenv.cli.verdict.measurement import GeneratorHealth, SummaryRun
from perfenv.cli.verdict.suite import Suite, parse_suite
from tests.cli.synthetic import lognormal, measurement


def _suite(scenario: dict[str, object], budgets: list[str]) -> Suite:
    return parse_suite(
        {"name": "t", "requests": [{"path": "/items"}], "scenarios": [scenario], "budgets": budgets}
    )


LOAD = {"name": "load", "kind": "load", "rate": 40, "duration": "10s", "warmup": "2s"}


def test_fast_load_passes_every_budget() -> None:
    suite = _suite(LOAD, ["p95 < 100ms", "error_rate < 1%", "throughput >= 95%"])
    run = measurement("load", suite.scenarios[0].rates(), latency=lognormal(20), warmup_s=2)
    verdict = judge_suite(suite, {"load": [run]})
    assert verdict.verdict == "pass"
    assert verdict.exit_code == 0
    assert [b.verdict for b in verdict.scenarios[0].budgets] == ["pass", "pass", "pass"]


def test_breached_budget_fails_and_names_it() -> None:
    suite = _suite(LOAD, ["p95 < 100ms", "error_rate < 1%"])
    run = measurement("load", suite.scenarios[0].rates(), latency=lognormal(200), warmup_s=2)
    scenario = judge_suite(suite, {"load": [run]}).scenarios[0]
    assert scenario.verdict == "fail"
    assert scenario.budgets[0].verdict == "fail"
    assert scenario.budgets[1].verdict == "pass"
    assert scenario.reason.startswith("p95 < 100ms: measured ")


def test_warmup_is_not_judged() -> None:
    suite = _suite(LOAD, ["p95 < 100ms"])

    def slow_start(t: int, rng: random.Random) -> float:
        return 900.0 if t < 2 else rng.uniform(10, 20)

    run = measurement("load", suite.scenarios[0].rates(), latency=slow_start, warmup_s=2)
    assert judge_suite(suite, {"load": [run]}).verdict == "pass"


def test_error_rate_and_throughput_are_steady_state_ratios() -> None:
    suite = _suite(LOAD, ["error_rate < 1%", "throughput >= 95%"])
    run = measurement("load", suite.scenarios[0].rates(), error_rate=0.2, achieved=0.5)
    stats = judge_suite(suite, {"load": [run]}).scenarios[0].stats
    assert stats["throughput"] == pytest.approx(0.5)
    assert stats["error_rate"] == pytest.approx(0.2, abs=0.08)


def test_invalid_generator_makes_the_run_invalid_never_a_pass() -> None:
    suite = _suite(LOAD, ["p95 < 100ms"])
    run = measurement("load", suite.scenarios[0].rates(), valid=False, achieved=0.4)
    verdict = judge_suite(suite, {"load": [run]})
    assert verdict.verdict == "invalid"
    assert verdict.exit_code == 4
    assert "planned 400 requests, sent 160" in verdict.scenarios[0].reason


def test_missing_measurement_is_invalid() -> None:
    suite = _suite(LOAD, ["p95 < 100ms"])
    assert judge_suite(suite, {}).verdict == "invalid"


def test_exit_code_precedence() -> None:
    suite = _suite(LOAD, ["p95 < 100ms"])
    rates = suite.scenarios[0].rates()
    passed = judge_suite(suite, {"load": [measurement("load", rates)]})
    failed = judge_suite(suite, {"load": [measurement("load", rates, latency=lognormal(500))]})
    invalid = judge_suite(suite, {"load": [measurement("load", rates, valid=False)]})
    assert exit_code(passed, regressed=False) == 0
    assert exit_code(passed, regressed=True) == 1
    assert exit_code(failed, regressed=False) == 1
    assert exit_code(invalid, regressed=True) == 4


STRESS = {
    "name": "stress",
    "kind": "stress",
    "start_rate": 10,
    "step_rate": 10,
    "step_every": "3s",
    "max_rate": 60,
}


def _knee_at(rate_limit: float) -> object:
    def latency(t: int, rng: random.Random) -> float:
        rate = 10 + 10 * (t // 3)
        return rng.uniform(5, 15) if rate <= rate_limit else rng.uniform(400, 600)

    return latency


def test_stress_reports_the_knee_instead_of_failing() -> None:
    suite = _suite(STRESS, ["p95 < 100ms"])
    run = measurement("stress", suite.scenarios[0].rates(), latency=_knee_at(30))  # type: ignore[arg-type]
    scenario = judge_suite(suite, {"stress": [run]}).scenarios[0]
    assert scenario.verdict == "pass"
    assert scenario.analysis["knee_rate"] == 30
    assert scenario.analysis["broke_at"]["rate"] == 40
    assert "p95 < 100ms" in scenario.analysis["broke_at"]["broken"][0]
    assert scenario.reason.startswith("knee at 30 req/s, broke at 40 req/s")


def test_stress_fails_when_not_even_its_first_step_met_the_budgets() -> None:
    suite = _suite(STRESS, ["p95 < 100ms"])
    run = measurement("stress", suite.scenarios[0].rates(), latency=_knee_at(0))  # type: ignore[arg-type]
    scenario = judge_suite(suite, {"stress": [run]}).scenarios[0]
    assert scenario.analysis["knee_rate"] is None
    assert scenario.verdict == "fail"


def test_stress_without_a_knee_says_so() -> None:
    suite = _suite(STRESS, ["p95 < 100ms"])
    run = measurement("stress", suite.scenarios[0].rates(), latency=_knee_at(1000))  # type: ignore[arg-type]
    scenario = judge_suite(suite, {"stress": [run]}).scenarios[0]
    assert scenario.analysis["knee_rate"] == 60
    assert scenario.analysis["knee_found"] is False
    assert "no knee below max_rate" in scenario.reason


def test_spike_reports_error_rate_during_the_spike_and_recovery_time() -> None:
    spike = {"name": "spike", "kind": "spike", "base_rate": 20, "peak_rate": 60}
    spike.update(spike_at="4s", spike_for="3s", duration="15s")
    suite = _suite(spike, ["p95 < 100ms"])

    def latency(t: int, rng: random.Random) -> float:
        return rng.uniform(300, 400) if 4 <= t < 9 else rng.uniform(5, 15)

    run = measurement(
        "spike",
        suite.scenarios[0].rates(),
        latency=latency,
        error_rate=lambda t: 0.5 if 4 <= t < 7 else 0.0,
    )
    analysis = judge_suite(suite, {"spike": [run]}).scenarios[0].analysis
    assert analysis["recovery_s"] == 2  # the spike ends at 7 s; p95 is back at 9 s
    assert analysis["spike_error_rate"] == pytest.approx(0.5, abs=0.15)
    assert analysis["recovery_threshold_ms"] == 100


def test_soak_reports_drift_of_the_last_quarter_against_the_first() -> None:
    soak = {"name": "soak", "kind": "soak", "rate": 20, "duration": "40s"}
    suite = _suite(soak, ["p95 < 1s"])

    def leaking(t: int, rng: random.Random) -> float:
        return rng.uniform(9, 11) * (2.0 if t >= 30 else 1.0)

    run = measurement("soak", suite.scenarios[0].rates(), latency=leaking)
    analysis = judge_suite(suite, {"soak": [run]}).scenarios[0].analysis
    assert analysis["p95_drift"] == pytest.approx(1.0, abs=0.1)


def test_repeats_are_pooled() -> None:
    suite = _suite(LOAD, ["p95 < 100ms"])
    rates = suite.scenarios[0].rates()
    fast = measurement("load", rates, latency=lognormal(10), warmup_s=2, seed=1)
    slow = measurement("load", rates, latency=lognormal(400), warmup_s=2, seed=2)
    scenario = judge_suite(suite, {"load": [fast, slow]}).scenarios[0]
    assert scenario.stats["planned"] == 2 * sum(rates) - 2 * 2 * 40
    assert scenario.verdict == "fail"


def _summary(p95: float, p99: float | None) -> SummaryRun:
    stats = {"p50": p95 / 2, "p95": p95, "p99": p99, "error_rate": 0.0, "throughput": 1.0}
    return SummaryRun(
        scenario="load",
        started_at="2026-11-27T00:00:00+00:00",
        stats=stats,
        planned=400,
        generator=GeneratorHealth(valid=True),
    )


def test_summary_runs_are_judged_from_their_percentiles() -> None:
    suite = _suite(LOAD, ["p95 < 100ms", "error_rate < 1%"])
    assert judge_scenario(suite, suite.scenarios[0], [_summary(80, 90)]).verdict == "pass"
    assert judge_scenario(suite, suite.scenarios[0], [_summary(120, 130)]).verdict == "fail"


def test_a_budget_the_summary_cannot_answer_is_invalid() -> None:
    suite = _suite(LOAD, ["p99 < 100ms"])
    scenario = judge_scenario(suite, suite.scenarios[0], [_summary(80, None)])
    assert scenario.verdict == "invalid"
    assert scenario.budgets[0].verdict == "invalid"
    assert "p99 < 100ms: not measured" in scenario.reason


def test_lognormal_helper_has_the_asked_median() -> None:
    rng = random.Random(3)
    values = sorted(lognormal(50)(0, rng) for _ in range(2001))
    assert math.isclose(values[1000], 50, rel_tol=0.1)
