from __future__ import annotations

import pytest

from perfenv.cli.verdict.budgets import budget_from, judge_budget, parse_budget, value_text


@pytest.mark.parametrize(
    ("text", "metric", "op", "threshold"),
    [
        ("p95 < 250ms", "p95", "<", 250.0),
        ("p99<1s", "p99", "<", 1000.0),
        ("p999 <= 1.5s", "p999", "<=", 1500.0),
        ("max < 2s", "max", "<", 2000.0),
        ("mean < 40ms", "mean", "<", 40.0),
        ("error_rate < 1%", "error_rate", "<", 0.01),
        ("error_rate < 0.5%", "error_rate", "<", 0.005),
        ("throughput >= 95%", "throughput", ">=", 0.95),
    ],
)
def test_parse_budget_reads_metric_operator_and_threshold(
    text: str, metric: str, op: str, threshold: float
) -> None:
    budget = parse_budget(text)
    assert (budget.metric, budget.op) == (metric, op)
    assert budget.threshold == pytest.approx(threshold)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("p97 < 1s", "unknown metric 'p97'"),
        ("p95 250ms", "not a budget"),
        ("p95 < fast", "not a latency"),
        ("error_rate < lots", "not a percentage"),
        ("", "not a budget"),
    ],
)
def test_parse_budget_rejects_with_a_readable_reason(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_budget(text)


def test_budget_holds_by_its_operator() -> None:
    assert parse_budget("p95 < 250ms").holds(249.9)
    assert not parse_budget("p95 < 250ms").holds(250.0)
    assert parse_budget("p95 <= 250ms").holds(250.0)
    assert parse_budget("throughput >= 95%").holds(0.95)
    assert not parse_budget("throughput >= 95%").holds(0.94)


def test_judge_budget_is_invalid_when_the_metric_was_not_measured() -> None:
    budget = parse_budget("p99 < 1s")
    assert judge_budget(budget, {"p95": 10.0}) == ("invalid", None)
    assert judge_budget(budget, {"p99": 1200.0}) == ("fail", 1200.0)
    assert judge_budget(budget, {"p99": 800.0}) == ("pass", 800.0)


def test_value_text_uses_the_metric_unit() -> None:
    assert value_text("p95", 231.44) == "231.4ms"
    assert value_text("p99", 12_500.0) == "12.50s"
    assert value_text("error_rate", 0.0042) == "0.42%"
    assert value_text("p95", None) == "n/a"


def test_a_budget_may_hold_over_a_sliding_window() -> None:
    assert parse_budget("error_rate < 1% over 30s").window_s == 30
    budget = parse_budget("p95 < 300ms over 1m")
    assert (budget.metric, budget.threshold, budget.window_s) == ("p95", 300.0, 60)
    assert parse_budget("p95 < 300ms").window_s is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("recovery_time < 1m over 30s", "a window applies to"),
        ("p95 < 1s over soon", "not a duration"),
        ("p95 < 1s over 0.5s", "whole seconds"),
    ],
)
def test_a_window_is_refused_where_it_cannot_hold(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_budget(text)


def test_an_abort_budget_is_written_as_a_mapping() -> None:
    budget = budget_from(
        {"budget": "error_rate < 5% over 10s", "abort": True, "abort_after": "20s"}
    )
    assert (budget.abort, budget.abort_after_s, budget.window_s) == (True, 20.0, 10)
    assert budget_from("p95 < 1s").abort is False
    for bad, fragment in [
        ({"budget": "p95 < 1s", "abort": "yes"}, "abort: expected true or false"),
        ({"budget": "p95 < 1s", "abort_after": "20s"}, "only with abort: true"),
        ({"budget": "p95 < 1s", "stop": True}, "unknown key 'stop'"),
        ({"abort": True}, "a mapping with budget:"),
    ]:
        with pytest.raises(ValueError, match=fragment):
            budget_from(bad)
