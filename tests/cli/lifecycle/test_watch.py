"""Watching the environment around each scenario: order, the need for a stack, the clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from perfenv.cli.errors import BadInput
from perfenv.cli.lifecycle import watch
from perfenv.cli.verdict.behaviour import Events
from perfenv.cli.verdict.measurement import Window
from perfenv.cli.verdict.suite import parse_suite
from tests.cli.synthetic import measurement

SUITE_RAW = [
    {"name": "grow", "kind": "scale", "base_rate": 5, "rate": 20}
    | {"step_at": "2s", "duration": "6s"},
    {"name": "steady", "kind": "load", "rate": 10, "duration": "5s"},
    {"name": "lose", "kind": "failover", "rate": 10, "fail_at": "3s", "duration": "6s"},
    {"name": "soak", "kind": "soak", "rate": 10, "duration": "5s"},
]
SUITE = parse_suite({"name": "release", "requests": [{"path": "/items"}], "scenarios": SUITE_RAW})


class FakeProbe:
    def __init__(self) -> None:
        self.t0 = 0.0
        self.begun: list[bool] = []
        self.triggered = 0
        self.problems: list[str] = []

    def begin(self, *, failover: bool = False, fail_at: float | None = None) -> None:
        self.begun.append(failover)
        self.t0 = 0.0

    def trigger(self) -> None:
        self.triggered += 1

    def end(self) -> Events:
        self.problems.append("a hiccup")
        return Events(
            lost_at=5.0,
            in_service=((0.0, 2),),
            alarms=({"t": 3.0, "alarm": "a", "from": "OK", "to": "ALARM"},),
        )


def test_steady_scenarios_run_first_then_failover_then_scale_then_stress() -> None:
    ramp = {"name": "ramp", "kind": "stress", "start_rate": 5, "step_rate": 5}
    ramp |= {"step_every": "2s", "max_rate": 10}
    suite = parse_suite(
        {"name": "r", "requests": [{"path": "/items"}], "scenarios": [ramp, *SUITE_RAW]}
    )
    assert [s.name for s in watch.ordered(suite.scenarios)] == [
        "steady",
        "soak",
        "lose",
        "grow",
        "ramp",
    ]


def test_scale_and_failover_need_a_stack() -> None:
    with pytest.raises(BadInput, match="scenario grow \\(scale\\) watches the environment"):
        watch.check(SUITE.scenarios, None)
    watch.check(SUITE.scenarios[1:2], None)  # a steady suite runs against a bare URL
    watch.check(SUITE.scenarios, FakeProbe())  # type: ignore[arg-type]


def test_events_move_to_the_schedules_clock_and_the_failover_cue() -> None:
    probe, said = FakeProbe(), []
    watching = watch.Watch(probe, said.append)  # type: ignore[arg-type]
    lose = SUITE.scenarios[2]
    cue = watching.begin(lose)
    window = Window(t=1, planned=10, sent=10, ok=10, errors=0, histogram="")
    cue(window)
    assert probe.triggered == 0
    cue(Window(t=2, planned=10, sent=10, ok=10, errors=0, histogram=""))
    assert probe.triggered == 1 and probe.begun == [True]
    run: Any = measurement("lose", lose.rates())
    run = type(run)(**{**run.__dict__, "started_at": "2027-01-15T08:00:02.000+00:00"})
    schedule = datetime.fromisoformat(run.started_at).timestamp()
    probe.t0 = schedule - 2.0
    watching.end(lose, [run])
    [events] = watching.events["lose"]
    assert events.lost_at == 3.0 and events.in_service == ((-2.0, 2),)
    assert events.alarms[0]["t"] == 1.0
    assert said == ["scenario lose: watching the environment: a hiccup"]


def test_alarm_transitions_go_into_the_server_section_per_run() -> None:
    flip = {"t": 3.0, "alarm": "a", "from": "OK", "to": "ALARM"}
    server = {"scenarios": [{"scenario": "lose", "run": 1}, {"scenario": "other", "run": 1}]}
    watch.alarms_into(server, {"lose": [Events(alarms=(flip,))]})
    assert server["scenarios"][0]["alarms"] == [flip]
    assert "alarms" not in server["scenarios"][1]
