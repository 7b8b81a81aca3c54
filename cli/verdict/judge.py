"""Verdicts per scenario and per suite, each `pass`, `fail` or `invalid`.

Budgets are judged on the steady state (windows after warmup), pooled over the repeats of a
scenario. A run the generator could not deliver is `invalid`, never a pass. Each kind adds its
own reading: stress finds the knee instead of failing on it (it fails only when not even its
first step met the budgets), spike reports its error rate and recovery time, soak its drift;
scale and failover read the environment's events (see behaviour.py), and their times and
failover error share are judged like any other metric.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from perfenv.cli.errors import CHECK_FAILED, INVALID_MEASUREMENT, OK, worst
from perfenv.cli.verdict.abort import ABORTED, Breach
from perfenv.cli.verdict.analysis import (
    soak_analysis,
    spike_analysis,
    stress_analysis,
    stress_reason,
    worst_analysis,
)
from perfenv.cli.verdict.behaviour import (
    Events,
    failover_analysis,
    scale_analysis,
    worst_behaviour,
)
from perfenv.cli.verdict.budget_verdicts import BudgetVerdict, judge_budgets
from perfenv.cli.verdict.budgets import FAIL, INVALID, PASS, SKIPPED
from perfenv.cli.verdict.measurement import Run, ScenarioMeasurement, Stats
from perfenv.cli.verdict.scenarios import (
    FailoverScenario,
    ScaleScenario,
    ScenarioBase,
    SpikeScenario,
    StressScenario,
)
from perfenv.cli.verdict.stats import pooled_stats, steady, window_stats
from perfenv.cli.verdict.suite import Suite


@dataclass(frozen=True, kw_only=True)
class ScenarioVerdict:
    name: str
    kind: str
    verdict: str
    reason: str
    budgets: tuple[BudgetVerdict, ...]
    stats: Stats
    analysis: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class SuiteVerdict:
    verdict: str  # pass | fail | invalid | aborted (a budget stopped the run)
    scenarios: tuple[ScenarioVerdict, ...]
    aborted: Breach | None = None

    @property
    def exit_code(self) -> int:
        invalid = any(s.verdict == INVALID for s in self.scenarios)
        if self.verdict == ABORTED:
            return worst(CHECK_FAILED, INVALID_MEASUREMENT if invalid else OK)
        return {PASS: OK, FAIL: CHECK_FAILED, INVALID: INVALID_MEASUREMENT}[self.verdict]


def overall(verdicts: Iterable[str]) -> str:
    """Invalid beats fail beats pass; a scenario skipped after an abort does not count."""
    found = set(verdicts)
    return INVALID if INVALID in found else FAIL if FAIL in found else PASS


def judge_scenario(
    suite: Suite, scenario: ScenarioBase, runs: Sequence[Run], events: Sequence[Events] = ()
) -> ScenarioVerdict:
    """`events`: what the environment did in each measured run (scale and failover read it)."""
    kind = getattr(scenario, "kind", "load")
    budgets = suite.budgets_for(scenario)
    stats = pooled_stats(runs)
    measured = [r for r in runs if isinstance(r, ScenarioMeasurement)]
    analyses: list[dict[str, Any]] = []
    for i, run in enumerate(measured):
        happened = events[i] if i < len(events) else Events()
        if isinstance(scenario, StressScenario):
            analyses.append(stress_analysis(scenario, budgets, run))
        elif isinstance(scenario, SpikeScenario):
            analyses.append(spike_analysis(scenario, budgets, run))
        elif isinstance(scenario, ScaleScenario):
            analyses.append(scale_analysis(scenario, budgets, run, happened))
        elif isinstance(scenario, FailoverScenario):
            analyses.append(failover_analysis(scenario, budgets, run, happened))
        elif kind == "soak":
            analyses.append(soak_analysis(run))
    if isinstance(scenario, ScaleScenario | FailoverScenario):
        analysis = worst_behaviour(analyses)
        stats = {**stats, **analysis.get("metrics", {})}
    else:
        analysis = worst_analysis(kind, analyses)
        alarms = [a for happened in events for a in happened.alarms]
        if alarms:  # the alarm transitions of the window, for the reports' time axis
            analysis = {**analysis, "events": {"alarms": alarms}}

    if isinstance(scenario, StressScenario) and measured:
        # Judge the steps up to the knee; with no knee, the first step (which broke).
        knee = analysis.get("knee_rate")
        top = knee if knee is not None else scenario.start_rate
        upto = {i for i, rate in enumerate(scenario.step_rates) if rate <= top}
        per_run = [[w for w in steady(r) if w.t // scenario.step_s in upto] for r in measured]
        verdicts = judge_budgets(budgets, window_stats(sum(per_run, [])), per_run)
    else:
        verdicts = judge_budgets(budgets, stats, [steady(r) for r in measured])

    invalid_runs = [r.generator for r in runs if not r.generator.valid]
    aborted = [r.aborted for r in measured if r.aborted]
    if not runs:
        verdict, reason = INVALID, "no measurement"
    elif aborted:
        verdict, reason = FAIL, aborted[0]
    elif invalid_runs:
        verdict = INVALID
        reason = invalid_runs[0].reason or "the load generator could not deliver the plan"
    else:
        verdict = overall(v.verdict for v in verdicts)
        failed = [v for v in verdicts if v.verdict != PASS]
        reason = "; ".join(
            (v.line if v.verdict == FAIL else f"{v.budget.text}: not measured") for v in failed
        )
        if isinstance(scenario, StressScenario) and measured:
            reason = stress_reason(analysis) + (f"; {reason}" if reason else "")
    return ScenarioVerdict(
        name=scenario.name,
        kind=kind,
        verdict=verdict,
        reason=reason,
        budgets=verdicts,
        stats=stats,
        analysis=analysis,
    )


def _skipped(scenario: ScenarioBase) -> ScenarioVerdict:
    return ScenarioVerdict(
        name=scenario.name,
        kind=str(getattr(scenario, "kind", "load")),
        verdict=SKIPPED,
        reason="not run: the run was aborted by budget",
        budgets=(),
        stats={},
    )


def judge_suite(
    suite: Suite,
    runs: Mapping[str, Sequence[Run]],
    events: Mapping[str, Sequence[Events]] | None = None,
    aborted: Breach | None = None,
) -> SuiteVerdict:
    """The suite's verdict from each scenario's runs (and environment events), by name.
    After `aborted`, a scenario that never ran is skipped and the suite's verdict is aborted."""
    happened = events or {}
    scenarios = tuple(
        _skipped(s)
        if aborted is not None and not runs.get(s.name)
        else judge_scenario(suite, s, runs.get(s.name, ()), happened.get(s.name, ()))
        for s in suite.scenarios
    )
    verdict = ABORTED if aborted is not None else overall(s.verdict for s in scenarios)
    return SuiteVerdict(verdict=verdict, scenarios=scenarios, aborted=aborted)


def exit_code(verdict: SuiteVerdict, regressed: bool) -> int:
    return worst(verdict.exit_code, CHECK_FAILED if regressed else OK)
