"""What each scenario kind reads beyond its budgets.

Stress finds the knee (the highest step that met the budgets), spike its error rate and
recovery time, soak the drift of p95 from the first quarter to the last. With repeats, the most
conservative run is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from perfenv.cli.verdict.budget_verdicts import judge_budgets
from perfenv.cli.verdict.budgets import PASS, Budget
from perfenv.cli.verdict.histograms import merged
from perfenv.cli.verdict.measurement import ScenarioMeasurement, Stats
from perfenv.cli.verdict.scenarios import SpikeScenario, StressScenario
from perfenv.cli.verdict.stats import latency_stats, steady, window_stats


def recovery_threshold_ms(budgets: Sequence[Budget], before: Stats) -> float | None:
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
    threshold = recovery_threshold_ms(budgets, base)
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
        verdicts = judge_budgets(budgets, stats, [windows])
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


def worst_analysis(kind: str, analyses: list[dict[str, Any]]) -> dict[str, Any]:
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


def stress_reason(analysis: dict[str, Any]) -> str:
    knee, broke = analysis.get("knee_rate"), analysis.get("broke_at")
    if knee is not None and broke is None:
        return f"met the budgets at every step up to {knee:g} req/s: no knee below max_rate"
    text = f"knee at {knee:g} req/s" if knee is not None else "no step met the budgets"
    if broke:
        text += f", broke at {broke['rate']:g} req/s ({'; '.join(broke['broken'])})"
    return text
