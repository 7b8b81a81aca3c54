"""Metric math as "Using metric math" documents it, on the expressions alarms use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from perfenv.cli.targets.local.alarms.metric_math import MathError, evaluate
from perfenv.cli.targets.local.alarms.model import Unsupported

T = [datetime(2026, 3, 2, 12, 0, tzinfo=UTC) + timedelta(seconds=10 * i) for i in range(5)]
RATE = "IF(requests > 0, 100 * (FILL(errors, 0) + FILL(elb_errors, 0)) / requests, 0)"


def ts(*values: float | None) -> dict[datetime, float]:
    return {t: v for t, v in zip(T, values, strict=False) if v is not None}


def values(series: dict[datetime, float]) -> list[float | None]:
    return [series.get(t) for t in T]


def test_if_with_three_series_as_the_docs_table() -> None:
    data = {"m1": ts(1, 1, 0, 0, None), "m2": ts(30, None, 0, 0, 30), "m3": ts(0, 0, 20, None, 20)}
    assert values(evaluate("IF(m1, m2, m3)", data, T)) == [30, 0, 20, None, None]


def test_if_with_a_scalar_branch_as_the_docs_tables() -> None:
    data = {"m1": ts(1, 1, 0, 0, None), "m2": ts(30, None, 0, 0, 30), "m3": ts(0, 0, 20, None, 20)}
    assert values(evaluate("IF(m1, 5, m3)", data, T)) == [5, 5, 20, None, None]
    assert values(evaluate("IF(m1, m2, 5)", data, T)) == [30, 0, 5, 5, None]


def test_comparisons_treat_the_other_missing_value_as_zero() -> None:
    data = {"metric1": ts(30, 20, 0, 0), "metric2": ts(20, None, 20, None)}
    assert values(evaluate("(metric1 < metric2)", data, T))[:4] == [0, 0, 1, 0]
    assert values(evaluate("(metric1 >= 30)", data, T))[:4] == [1, 0, 0, 0]
    assert values(evaluate("(metric1 > 15 AND metric2 > 15)", data, T))[:4] == [1, 0, 0, 0]
    assert values(evaluate("metric1 > 15 && metric2 > 15 || metric1 == 0", data, T))[:4] == [
        1,
        0,
        1,
        1,
    ]


def test_the_stacks_5xx_rate_expression() -> None:
    data = {
        "requests": ts(100, 200, None, 50, 0),
        "errors": ts(5, None, None, 50, None),
        "elb_errors": ts(None, 2, None, None, None),
    }
    # no requests in a period: no datapoint; zero requests: 0, never a division by zero
    assert values(evaluate(RATE, data, T)) == [5.0, 1.0, None, 100.0, 0]


def test_arithmetic_drops_a_division_by_zero_and_treats_missing_as_zero() -> None:
    data = {"a": ts(10, 10, None, 4), "b": ts(2, 0, 5, None)}
    assert values(evaluate("a / b", data, T))[:4] == [5.0, None, 0.0, None]
    assert values(evaluate("a - b", data, T))[:4] == [8.0, 10.0, -5.0, 4.0]
    assert values(evaluate("-a + 2 ^ 2 * 3", data, T))[:4] == [2.0, 2.0, None, 8.0]


def test_fill_repeat_and_linear() -> None:
    data = {"m": ts(None, 2, None, None, 8)}
    assert values(evaluate("FILL(m, 1)", data, T)) == [1, 2, 1, 1, 8]
    assert values(evaluate("FILL(m, REPEAT)", data, T)) == [None, 2, 2, 2, 8]
    assert values(evaluate("FILL(m, LINEAR)", data, T)) == [None, 2, 4, 6, 8]


def test_functions() -> None:
    data = {"a": ts(1.5, -2.5), "b": ts(3, 4)}
    assert values(evaluate("ABS(a)", data, T))[:2] == [1.5, 2.5]
    assert values(evaluate("CEIL(a) + FLOOR(a)", data, T))[:2] == [3.0, -5.0]
    assert values(evaluate("SUM([a, b])", data, T))[:2] == [4.5, 1.5]
    assert values(evaluate("b - AVG(b)", data, T))[:2] == [-0.5, 0.5]
    assert values(evaluate("TIME_SERIES(MAX(b))", data, T)) == [4.0] * 5
    assert values(evaluate("b / PERIOD(b)", data, T, {"b": 10}))[:2] == [0.3, 0.4]


def test_bad_and_unsupported_expressions() -> None:
    with pytest.raises(MathError, match="unknown id"):
        evaluate("nope + 1", {}, T)
    with pytest.raises(MathError, match="one time series"):
        evaluate("1 + 2", {}, T)
    with pytest.raises(MathError):
        evaluate("IF(a > 1, ", {"a": ts(1)}, T)
    with pytest.raises(Unsupported, match="ANOMALY_DETECTION_BAND"):
        evaluate("ANOMALY_DETECTION_BAND(a)", {"a": ts(1)}, T)
