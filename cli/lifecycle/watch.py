"""The environment watched while each scenario runs, for the judge and the reports.

Scale and failover scenarios need it (they read the environment's events), so a suite with
them needs a stack: `perfenv run`, or `perfenv test --stack`. Every scenario gets the alarm
transitions of its window. Scenarios run the kinds that stay under the fleet's scaling targets
first (load, spike, soak), then failovers, then scale scenarios, then stress ramps (ADR 0036): a
steady scenario never runs after one that scaled the fleet out (local scale-in takes minutes, so
the fleet would not have scaled back), a failover loses an instance of the fleet at its
configured size, a scale scenario starts from it, and a stress ramp, which drives the fleet past
every target, runs last, on the fleet it finds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from perfenv.cli.errors import BadInput
from perfenv.cli.targets.probe import Probe
from perfenv.cli.verdict.behaviour import Events
from perfenv.cli.verdict.measurement import Run, ScenarioMeasurement, Window
from perfenv.cli.verdict.scenarios import ScenarioBase

NEEDS_ENVIRONMENT = ("scale", "failover")
_ORDER = {"failover": 1, "scale": 2, "stress": 3}


def _kind(scenario: ScenarioBase) -> str:
    return str(getattr(scenario, "kind", "load"))


def ordered(scenarios: Sequence[ScenarioBase]) -> list[ScenarioBase]:
    """Load, spike and soak first (as listed), then failovers, scale scenarios, stress ramps."""
    return sorted(scenarios, key=lambda s: _ORDER.get(_kind(s), 0))


def check(scenarios: Sequence[ScenarioBase], probe: Probe | None) -> None:
    """BadInput before any load when a scenario needs an environment and there is none."""
    if probe is not None:
        return
    for scenario in scenarios:
        if _kind(scenario) in NEEDS_ENVIRONMENT:
            raise BadInput(
                f"scenario {scenario.name} ({_kind(scenario)}) watches the environment: run it"
                " on a stack (perfenv run, or perfenv test --stack), not a bare --url"
            )


def _shifted(events: Events, by: float) -> Events:
    def at(t: float | None) -> float | None:
        return None if t is None else round(t + by, 3)

    return replace(
        events,
        scale_outs=tuple(round(t + by, 3) for t in events.scale_outs),
        in_service=tuple((round(t + by, 3), n) for t, n in events.in_service),
        lost_at=at(events.lost_at),
        stopped_sending_at=at(events.stopped_sending_at),
        replaced_at=at(events.replaced_at),
        alarms=tuple({**a, "t": round(a["t"] + by, 3)} for a in events.alarms),
    )


class Watch:
    """One probe, begun and ended around each scenario run; the events by scenario name."""

    def __init__(self, probe: Probe | None, say: Callable[[str], None]) -> None:
        self.probe, self.say = probe, say
        self.events: dict[str, list[Events]] = {}

    def begin(self, scenario: ScenarioBase) -> Callable[[Window], None]:
        """Start watching; the returned hook sees each measured second (a failover's cue)."""
        if self.probe is None:
            return lambda _window: None
        fail_s = getattr(scenario, "fail_s", None)
        self.probe.begin(failover=fail_s is not None)
        probe = self.probe

        def on_window(window: Window) -> None:
            if fail_s is not None and window.t + 1 >= fail_s:
                probe.trigger()

        return on_window

    def end(self, scenario: ScenarioBase, measured: Sequence[Run]) -> None:
        if self.probe is None:
            return
        events = self.probe.end()
        for problem in self.probe.problems:
            self.say(f"scenario {scenario.name}: watching the environment: {problem}")
        self.probe.problems.clear()
        start = _schedule_start(measured)
        if start is not None:  # on the schedule's clock, as the windows are
            events = _shifted(events, self.probe.t0 - start)
        self.events.setdefault(scenario.name, []).append(events)


def alarms_into(server: dict[str, Any], events: dict[str, list[Events]]) -> None:
    """Each scenario run's alarm transitions into results.json's `server` section, beside
    what the balancer and the fleet saw in that run."""
    for entry in server.get("scenarios", []):
        runs = events.get(entry["scenario"], [])
        if 0 < entry["run"] <= len(runs):
            entry["alarms"] = list(runs[entry["run"] - 1].alarms)


def _schedule_start(measured: Sequence[Run]) -> float | None:
    runs: list[Any] = [r for r in measured if isinstance(r, ScenarioMeasurement) and r.windows]
    if not runs:
        return None
    try:
        return datetime.fromisoformat(runs[-1].started_at).timestamp()
    except ValueError:
        return None
