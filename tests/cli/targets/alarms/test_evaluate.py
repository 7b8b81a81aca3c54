"""The alarm evaluator against the tables of AWS's "How alarm state is evaluated when data is
missing", and the reasons, windows and sources around it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from perfenv.cli.targets.local.alarms.evaluate import decide, evaluate, minimum_samples, window
from perfenv.cli.targets.local.alarms.model import (
    ALARM,
    INSUFFICIENT,
    OK,
    Alarm,
    MetricStat,
    Query,
)

NOW = datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC)
CPU = MetricStat("AWS/EC2", "CPUUtilization", (("AutoScalingGroupName", "g"),), "Average", 60)
KEEP = "the state before"


def alarm(n: int, m: int, treat: str, state: str = KEEP, **kw: object) -> Alarm:
    return Alarm(
        name="a",
        arn="arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a",
        queries=(Query(id="m1", metric=CPU, return_data=True),),
        period=60,
        evaluation_periods=n,
        datapoints_to_alarm=m,
        comparison="GreaterThanThreshold",
        threshold=1.0,
        treat_missing=treat,
        state=state,
        **kw,  # type: ignore[arg-type]
    )


def points(row: str) -> list[tuple[datetime, float | None]]:
    values = {"0": 0.0, "X": 5.0, "-": None}
    marks = row.split()
    start = NOW - timedelta(minutes=len(marks))
    return [(start + timedelta(minutes=i), values[mark]) for i, mark in enumerate(marks)]


COLUMNS = ("missing", "ignore", "breaching", "notBreaching")
# AWS's first table: datapoints to alarm 3 of 3, five datapoints read.
THREE_OF_THREE = [
    ("0 - X - X", (OK, OK, OK, OK)),
    ("0 - - - -", (OK, OK, OK, OK)),
    ("- - - - -", (INSUFFICIENT, KEEP, ALARM, OK)),
    ("0 X X - X", (ALARM, ALARM, ALARM, ALARM)),
    ("- - - - X", (INSUFFICIENT, KEEP, ALARM, OK)),
    ("X - - - -", (ALARM, KEEP, ALARM, OK)),
]
# The second: 2 of 3.
TWO_OF_THREE = [
    ("0 - X - X", (ALARM, ALARM, ALARM, ALARM)),
    ("0 0 X 0 X", (ALARM, ALARM, ALARM, ALARM)),
    ("0 - X - -", (OK, OK, ALARM, OK)),
    ("- - - - 0", (OK, OK, ALARM, OK)),
    ("- - - - X", (INSUFFICIENT, KEEP, ALARM, OK)),
]


@pytest.mark.parametrize(("row", "expected"), THREE_OF_THREE)
def test_aws_table_three_of_three(row: str, expected: tuple[str, ...]) -> None:
    got = tuple(decide(alarm(3, 3, treat), points(row), NOW).state for treat in COLUMNS)
    assert got == expected


@pytest.mark.parametrize(("row", "expected"), TWO_OF_THREE)
def test_aws_table_two_of_three(row: str, expected: tuple[str, ...]) -> None:
    got = tuple(decide(alarm(3, 2, treat), points(row), NOW).state for treat in COLUMNS)
    assert got == expected


def test_the_breaching_row_alarms_next_time_once_the_good_point_ages_out() -> None:
    # "The next time this alarm is evaluated, if the data is still missing it will go to ALARM"
    assert decide(alarm(3, 3, "breaching"), points("0 - - - -"), NOW).state == OK
    assert decide(alarm(3, 3, "breaching"), points("- - - - -"), NOW).state == ALARM


def test_m_of_n_needs_m_breaching_not_consecutive() -> None:
    assert decide(alarm(5, 3, "missing"), points("- - X 0 X 0 X"), NOW).state == ALARM
    assert decide(alarm(5, 3, "missing"), points("- - X 0 0 0 X"), NOW).state == OK


def test_reason_words_and_reason_data_as_cloudwatch_writes_them() -> None:
    result = decide(alarm(3, 3, "missing", state=OK), points("0 0 X X X"), NOW)
    assert result.state == ALARM and result.changed
    assert result.reason.startswith("Threshold Crossed: 3 datapoints [5.0 (02/03/26 11:59:30)")
    assert result.reason.endswith("were greater than the threshold (1.0).")
    data = json.loads(result.reason_data_json)
    assert data["statistic"] == "Average" and data["period"] == 60
    assert data["recentDatapoints"] == [0.0, 0.0, 5.0, 5.0, 5.0]
    assert len(data["evaluatedDatapoints"]) == 3


def test_m_of_n_reason_names_the_minimum_for_the_transition() -> None:
    result = decide(alarm(3, 2, "missing", state=OK), points("0 0 X 0 X"), NOW)
    assert "2 out of the last 3 datapoints" in result.reason
    assert "(minimum 2 datapoints for OK -> ALARM transition)" in result.reason
    back = decide(alarm(3, 3, "missing", state=ALARM), points("X X X X 0"), NOW)
    assert back.state == OK
    assert "1 out of the last 3 datapoints [0.0" in back.reason
    assert "was not greater than the threshold" in back.reason
    assert "(minimum 1 datapoint for ALARM -> OK transition)" in back.reason


def test_missing_data_reasons() -> None:
    assert decide(alarm(3, 3, "missing"), points("- - - - -"), NOW).reason == (
        "Insufficient Data: 5 datapoints were unknown."
    )
    reason = decide(alarm(3, 3, "notBreaching"), points("- - - - -"), NOW).reason
    assert reason == (
        "Threshold Crossed: no datapoints were received for 3 periods and 3 missing"
        " datapoints were treated as [NonBreaching]."
    )


def test_an_unchanged_state_is_not_a_change() -> None:
    assert not decide(alarm(3, 3, "missing", state=OK), points("0 0 0 0 0"), NOW).changed


def test_window_ends_at_the_last_complete_period() -> None:
    periods = window(alarm(3, 3, "missing"), NOW)
    assert len(periods) == 5
    assert periods[-1] == datetime(2026, 3, 2, 11, 59, tzinfo=UTC)
    assert periods[0] == datetime(2026, 3, 2, 11, 55, tzinfo=UTC)


class Source:
    def __init__(self, data: dict[str, dict[datetime, float]]) -> None:
        self.data = data
        self.asked: list[tuple[str, datetime, datetime]] = []

    def series(self, stat: MetricStat, start: datetime, end: datetime) -> dict[datetime, float]:
        self.asked.append((stat.stat, start, end))
        return {t: v for t, v in self.data.get(stat.stat, {}).items() if start <= t < end}


def test_evaluate_reads_the_range_from_the_source() -> None:
    periods = window(alarm(3, 3, "missing"), NOW)
    source = Source({"Average": dict.fromkeys(periods[-3:], 90.0)})
    result = evaluate(alarm(3, 3, "missing", state=OK), source, NOW)
    assert result.state == ALARM
    assert source.asked == [("Average", periods[0], periods[-1] + timedelta(minutes=1))]


def test_a_low_sample_percentile_alarm_set_to_ignore_waits() -> None:
    p95 = MetricStat("AWS/ApplicationELB", "TargetResponseTime", (), "p95", 60)
    low = alarm(3, 3, "missing", state=OK, low_sample_percentiles="ignore")
    low = Alarm(**{**low.__dict__, "queries": (Query(id="m1", metric=p95, return_data=True),)})
    periods = window(low, NOW)
    few = Source({"p95": dict.fromkeys(periods, 9.0), "SampleCount": dict.fromkeys(periods, 50.0)})
    assert evaluate(low, few, NOW).state == OK  # 150 samples < 200 for p95: not judged
    many = Source({"p95": dict.fromkeys(periods, 9.0), "SampleCount": dict.fromkeys(periods, 80.0)})
    assert evaluate(low, many, NOW).state == ALARM
    assert minimum_samples(95.0) == pytest.approx(200.0)
    assert minimum_samples(99.0) == pytest.approx(1000.0)
