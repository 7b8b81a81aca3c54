"""A suite's scenarios, measured in order: repeats interleaved, the environment watched, and a
budget marked `abort` able to stop everything at once.

Steady scenarios (`load`) run `repeat` times, interleaved round by round (a, b, a, b, ...), so
that a slow change of the stack or the machine spreads over all of them instead of landing on
one; every other kind runs once, after them, in the order `watch.ordered` gives (the kinds that
scale the fleet out last: a steady scenario must not inherit a scaled-out fleet).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from perfenv.cli.errors import InvalidMeasurement
from perfenv.cli.lifecycle import watch
from perfenv.cli.verdict.abort import AbortWatch, Breach, BudgetBreached
from perfenv.cli.verdict.generators import GeneratorHosts
from perfenv.cli.verdict.measurement import (
    GeneratorHealth,
    LoadPlan,
    Run,
    ScenarioMeasurement,
    Window,
)
from perfenv.cli.verdict.scenarios import STEADY_KINDS, ScenarioBase
from perfenv.cli.verdict.suite import Suite


@dataclass(frozen=True, kw_only=True)
class Tick:
    """One measured second, for a progress display."""

    scenario: str
    attempt: int  # 1-based repeat
    repeat: int
    planned_s: int
    window: Window


# (scenario, attempt, its runs, wall time it began, wall time it ended): the window in which the
# server side is read for it (results.json's `server` section).
Span = tuple[str, int, list[Run], float, float]


@dataclass(frozen=True, kw_only=True)
class Measured:
    runs: dict[str, list[Run]]
    spans: list[Span]
    aborted: Breach | None


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def order(scenarios: Sequence[ScenarioBase], repeat: int) -> list[tuple[ScenarioBase, int, int]]:
    """(scenario, attempt, of) in the order they run."""
    ordered = watch.ordered(scenarios)
    steady = [s for s in ordered if getattr(s, "kind", "load") in STEADY_KINDS]
    once = [s for s in ordered if s not in steady]
    return [(s, n, repeat) for n in range(1, repeat + 1) for s in steady] + [
        (s, 1, 1) for s in once
    ]


def _unmeasured(plan: LoadPlan, reason: str) -> ScenarioMeasurement:
    return ScenarioMeasurement(
        scenario=plan.scenario,
        started_at=now(),
        warmup_s=plan.warmup_s,
        windows=(),
        endpoints={},
        errors_by_kind={},
        generator=GeneratorHealth(valid=False, reason=reason, planned=plan.planned_requests),
    )


def _measure(
    suite: Suite,
    plan: LoadPlan,
    out_dir: Path,
    attempt: int,
    on_window: Callable[[Window], None],
    hosts: GeneratorHosts | None,
) -> list[Run]:
    try:
        if suite.engine == "command":
            from perfenv.cli.engine.command import run_command

            return run_command(suite, plan, out_dir / "command", attempt=attempt)
        from perfenv.cli.engine import run_plan  # the load engine: Locust in its own processes

        return [run_plan(plan, on_window, hosts)]
    except InvalidMeasurement as exc:
        # Still judged and reported: an invalid scenario, with the reason, never a pass.
        return [_unmeasured(plan, str(exc))]


def run_scenarios(
    suite: Suite,
    plans: dict[str, LoadPlan],
    out_dir: Path,
    *,
    repeat: int,
    watching: watch.Watch,
    say: Callable[[str], None],
    tick: Callable[[Tick], None] | None = None,
    hosts: GeneratorHosts | None = None,
) -> Measured:
    """Every scenario's runs, by name, until the end or a breached abort budget; `hosts`: the
    load generator instances the Locust engine runs the plans on."""
    runs: dict[str, list[Run]] = {}
    spans: list[Span] = []
    for scenario, attempt, of in order(suite.scenarios, repeat):
        plan = plans[scenario.name]
        again = f" (run {attempt}/{of})" if of > 1 else ""
        say(
            f"scenario {scenario.name}{again}: {getattr(scenario, 'kind', 'load')}, "
            f"{plan.duration_s}s, {plan.planned_requests} requests planned"
        )
        guard = AbortWatch(scenario.name, suite.budgets_for(scenario), plan.warmup_s)
        cue = watching.begin(scenario)

        def on_window(
            window: Window,
            _name: str = scenario.name,
            _n: int = attempt,
            _of: int = of,
            _guard: AbortWatch = guard,
            _cue: Callable[[Window], None] = cue,
        ) -> None:
            _guard.see(window)
            _cue(window)
            if tick is not None:
                planned_s = plans[_name].duration_s
                tick(
                    Tick(scenario=_name, attempt=_n, repeat=_of, planned_s=planned_s, window=window)
                )

        begun = time.time()
        breach = None
        try:
            measured = _measure(suite, plan, out_dir, attempt, on_window, hosts)
        except BudgetBreached as stop:
            breach = stop.breach
            measured = [
                stop.measurement or replace(_unmeasured(plan, breach.text), aborted=breach.text)
            ]
            say(breach.text)
        watching.end(scenario, measured)
        runs.setdefault(scenario.name, []).extend(measured)
        spans.append((scenario.name, attempt, measured, begun, time.time()))
        if breach is not None:
            return Measured(runs=runs, spans=spans, aborted=breach)
    return Measured(runs=runs, spans=spans, aborted=None)
