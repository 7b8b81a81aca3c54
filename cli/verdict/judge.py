"""Verdicts: per budget, per scenario, per suite, each `pass`, `fail` or `invalid`.

Budgets are judged on the steady state (windows after warmup), pooled over the repeats of a
scenario. A run the generator could not deliver is `invalid`, never a pass. Each kind adds its
own reading: stress finds the knee instead of failing on it (it fails only when not even its
first step met the budgets), spike reports its error rate and recovery time, soak its drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hdrh.histogram import HdrHistogram

from perfenv.cli.errors import CHECK_FAILED, INVALID_MEASUREMENT, OK, worst
from perfenv.cli.verdict.budgets import PERCENTILES, Budget, judge_budget, value_text
from perfenv.cli.verdict.measurement import (
    HIST_HIGHEST_US,
    HIST_LOWEST_US,
    HIST_SIGNIFICANT_DIGITS,
    GeneratorHealth,
    ScenarioMeasurement,
    Window,
)
from perfenv.cli.verdict.suite import ScenarioBase, SpikeScenario, StressScenario, Suite

PASS, FAIL, INVALID = "pass", "fail", "invalid"
Stats = dict[str, float | None]


@dataclass(frozen=True, kw_only=True)
class SummaryRun:
    """A run known only by summary statistics (a k6 summary export): no windows or histograms."""

    scenario: str
    started_at: str
    stats: Stats  # latency metrics in ms; counts as floats
    planned: int
    generator: GeneratorHealth
    engine: str = "k6"


Run = ScenarioMeasurement | SummaryRun


def new_histogram() -> HdrHistogram:
    return HdrHistogram(HIST_LOWEST_US, HIST_HIGHEST_US, HIST_SIGNIFICANT_DIGITS)


def merged(encoded: Iterable[str]) -> HdrHistogram:
    """One histogram holding every encoded histogram in `encoded`."""
    total = new_histogram()
    for text in encoded:
        if text:
            total.add(HdrHistogram.decode(text))
    return total


def latency_stats(hist: HdrHistogram) -> Stats:
    """Latency metrics in milliseconds; None when nothing was recorded.

    Same values as HdrHistogram's own percentile and mean queries, from the non-zero buckets
    only (its pure-Python queries walk every bucket: too slow for thousands of windows).
    """
    counts = np.ctypeslib.as_array(hist.counts)[: hist.counts_len]
    nonzero = np.flatnonzero(counts)
    if len(nonzero) == 0:
        return dict.fromkeys((*PERCENTILES, "mean"))
    found = counts[nonzero].astype(np.float64)
    cumulative = np.cumsum(found)
    total = cumulative[-1]
    out: Stats = {}
    for metric, p in PERCENTILES.items():
        if p == 100.0:
            out[metric] = hist.get_max_value() / 1000
            continue
        target = max(int(p / 100 * total + 0.5), 1)
        index = int(nonzero[int(np.searchsorted(cumulative, target))])
        out[metric] = hist.get_highest_equivalent_value(hist.get_value_from_index(index)) / 1000
    lows = [hist.get_value_from_index(int(i)) for i in nonzero]
    mids = [
        (low + hist.get_highest_equivalent_value(low)) / 2 for low in lows
    ]  # the bucket's middle, as HdrHistogram's mean takes it
    out["mean"] = float(np.dot(found, mids) / total) / 1000
    return out


def window_stats(windows: Sequence[Window]) -> Stats:
    """Counts, rates and latency metrics over `windows`."""
    planned = sum(w.planned for w in windows)
    sent = sum(w.sent for w in windows)
    ok = sum(w.ok for w in windows)
    errors = sum(w.errors for w in windows)
    done = ok + errors
    stats: Stats = {
        "planned": planned,
        "sent": sent,
        "ok": ok,
        "errors": errors,
        "error_rate": errors / done if done else None,
        "throughput": done / planned if planned else None,
        "achieved_rps": done / len(windows) if windows else None,
    }
    stats.update(latency_stats(merged(w.histogram for w in windows)))
    return stats


def steady(run: ScenarioMeasurement) -> list[Window]:
    return [w for w in run.windows if w.t >= run.warmup_s]


def pooled_stats(runs: Sequence[Run]) -> Stats:
    """Steady-state stats over every repeat; summary runs combine conservatively (worst run)."""
    measured = [r for r in runs if isinstance(r, ScenarioMeasurement)]
    if measured:
        return window_stats([w for r in measured for w in steady(r)])
    summaries = [r.stats for r in runs if isinstance(r, SummaryRun)]
    out: Stats = {}
    for key in summaries[0] if summaries else {}:
        values = [s.get(key) for s in summaries]
        known = [v for v in values if v is not None]
        if key in ("planned", "sent", "ok", "errors"):
            out[key] = sum(known)
        elif key == "throughput":
            out[key] = min(known) if len(known) == len(values) else None
        else:
            out[key] = max(known) if len(known) == len(values) else None
    return out


@dataclass(frozen=True, kw_only=True)
class BudgetVerdict:
    budget: Budget
    verdict: str
    value: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "budget": self.budget.text,
            "metric": self.budget.metric,
            "op": self.budget.op,
            "threshold": self.budget.threshold,
            "unit": self.budget.unit,
            "value": self.value,
            "verdict": self.verdict,
        }

    @property
    def line(self) -> str:
        return f"{self.budget.text}: measured {value_text(self.budget.metric, self.value)}"


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
    verdict: str
    scenarios: tuple[ScenarioVerdict, ...]

    @property
    def exit_code(self) -> int:
        return {PASS: OK, FAIL: CHECK_FAILED, INVALID: INVALID_MEASUREMENT}[self.verdict]


def overall(verdicts: Iterable[str]) -> str:
    found = set(verdicts)
    return INVALID if INVALID in found else FAIL if FAIL in found else PASS


def judge_budgets(budgets: Sequence[Budget], stats: Stats) -> tuple[BudgetVerdict, ...]:
    out = []
    for budget in budgets:
        verdict, value = judge_budget(budget, stats)
        out.append(BudgetVerdict(budget=budget, verdict=verdict, value=value))
    return tuple(out)


def _recovery_threshold_ms(budgets: Sequence[Budget], before: Stats) -> float | None:
    for budget in budgets:
        if budget.metric == "p95" and budget.op in ("<", "<="):
            return budget.threshold
    latency = [b.threshold for b in budgets if b.is_latency and b.op in ("<", "<=")]
    if latency:
        return min(latency)
    base = before.get("p95")
    return 2 * base if base else None


def spike_analysis(
    scenario: SpikeScenario, budgets: Sequence[Budget], run: ScenarioMeasurement
) -> dict[str, Any]:
    start, end = scenario.spike_window
    during = [w for w in run.windows if start <= w.t < end]
    before = [w for w in run.windows if run.warmup_s <= w.t < start]
    spike, base = window_stats(during), window_stats(before)
    threshold = _recovery_threshold_ms(budgets, base)
    recovery: int | None = None
    for w in run.windows:
        if w.t < end or threshold is None:
            continue
        p95 = latency_stats(merged([w.histogram]))["p95"]
        if p95 is not None and p95 <= threshold:
            recovery = w.t - end
            break
    return {
        "spike_error_rate": spike["error_rate"],
        "spike_p95_ms": spike["p95"],
        "base_p95_ms": base["p95"],
        "recovery_threshold_ms": threshold,
        "recovery_s": recovery,
        "recovered": recovery is not None,
    }


def stress_analysis(
    scenario: StressScenario, budgets: Sequence[Budget], run: ScenarioMeasurement
) -> dict[str, Any]:
    steps, knee, broke = [], None, None
    for i, rate in enumerate(scenario.step_rates):
        lo, hi = i * scenario.step_s, (i + 1) * scenario.step_s
        windows = [w for w in run.windows if lo <= w.t < hi and w.t >= run.warmup_s]
        stats = window_stats(windows)
        verdicts = judge_budgets(budgets, stats)
        broken = [v.line for v in verdicts if v.verdict != PASS]
        steps.append(
            {
                "rate": rate,
                "start_s": lo,
                "achieved_rps": stats["achieved_rps"],
                "p95_ms": stats["p95"],
                "p99_ms": stats["p99"],
                "error_rate": stats["error_rate"],
                "met_budgets": not broken,
                "broken": broken,
            }
        )
        if broke is None and not broken and windows:
            knee = rate
        elif broke is None and windows:
            broke = {"rate": rate, "broken": broken}
    return {"knee_rate": knee, "broke_at": broke, "knee_found": broke is not None, "steps": steps}


def soak_analysis(run: ScenarioMeasurement) -> dict[str, Any]:
    windows = steady(run)
    quarter = max(1, len(windows) // 4)
    first = window_stats(windows[:quarter])["p95"]
    last = window_stats(windows[-quarter:])["p95"]
    drift = (last / first - 1) if first and last is not None else None
    return {"first_quarter_p95_ms": first, "last_quarter_p95_ms": last, "p95_drift": drift}


def _worst_analysis(kind: str, analyses: list[dict[str, Any]]) -> dict[str, Any]:
    """With repeats, report the most conservative run."""
    if len(analyses) <= 1:
        return analyses[0] if analyses else {}
    if kind == "stress":
        pick = min(analyses, key=lambda a: a["knee_rate"] if a["knee_rate"] is not None else -1)
    elif kind == "spike":
        pick = max(analyses, key=lambda a: a["recovery_s"] if a["recovered"] else float("inf"))
    else:
        pick = max(analyses, key=lambda a: abs(a["p95_drift"] or 0.0))
    return {**pick, "runs": len(analyses)}


def judge_scenario(suite: Suite, scenario: ScenarioBase, runs: Sequence[Run]) -> ScenarioVerdict:
    kind = getattr(scenario, "kind", "load")
    budgets = suite.budgets_for(scenario)
    stats = pooled_stats(runs)
    measured = [r for r in runs if isinstance(r, ScenarioMeasurement)]
    analyses: list[dict[str, Any]] = []
    for run in measured:
        if isinstance(scenario, StressScenario):
            analyses.append(stress_analysis(scenario, budgets, run))
        elif isinstance(scenario, SpikeScenario):
            analyses.append(spike_analysis(scenario, budgets, run))
        elif kind == "soak":
            analyses.append(soak_analysis(run))
    analysis = _worst_analysis(kind, analyses)

    if isinstance(scenario, StressScenario) and measured:
        # Judge the steps up to the knee; with no knee, the first step (which broke).
        knee = analysis.get("knee_rate")
        top = knee if knee is not None else scenario.start_rate
        upto = {i for i, rate in enumerate(scenario.step_rates) if rate <= top}
        windows = [w for r in measured for w in steady(r) if w.t // scenario.step_s in upto]
        verdicts = judge_budgets(budgets, window_stats(windows))
    else:
        verdicts = judge_budgets(budgets, stats)

    invalid_runs = [r.generator for r in runs if not r.generator.valid]
    if not runs:
        verdict, reason = INVALID, "no measurement"
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
            reason = _stress_reason(analysis) + (f"; {reason}" if reason else "")
    return ScenarioVerdict(
        name=scenario.name,
        kind=kind,
        verdict=verdict,
        reason=reason,
        budgets=verdicts,
        stats=stats,
        analysis=analysis,
    )


def _stress_reason(analysis: dict[str, Any]) -> str:
    knee, broke = analysis.get("knee_rate"), analysis.get("broke_at")
    if knee is not None and broke is None:
        return f"met the budgets at every step up to {knee:g} req/s: no knee below max_rate"
    text = f"knee at {knee:g} req/s" if knee is not None else "no step met the budgets"
    if broke:
        text += f", broke at {broke['rate']:g} req/s ({'; '.join(broke['broken'])})"
    return text


def judge_suite(suite: Suite, runs: Mapping[str, Sequence[Run]]) -> SuiteVerdict:
    """The suite's verdict from each scenario's runs (by scenario name)."""
    scenarios = tuple(judge_scenario(suite, s, runs.get(s.name, ())) for s in suite.scenarios)
    return SuiteVerdict(verdict=overall(s.verdict for s in scenarios), scenarios=scenarios)


def exit_code(verdict: SuiteVerdict, regressed: bool) -> int:
    return worst(verdict.exit_code, CHECK_FAILED if regressed else OK)
