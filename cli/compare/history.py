"""`perfenv history`: a suite's stored releases in order, with change points and a trend check.

Each release's value is the mean, over its stored runs (repeats), of each run's steady-state
metric. Change points are found by `ruptures` (PELT, least squares, at least two releases per
segment) on the log of the values, so a level shift reads as a relative change. Its penalty is
PENALTY x sigma^2 x ln(releases), where sigma is the noise of a release's value: the larger of
the repeats' spread within a release (divided by the square root of their count) and a robust
estimate from one release to the next (the median absolute difference). Simulated on 7% run-to-
run noise, this finds a +15% step among ten releases of five runs 95% of the time and calls a
change in a steady series 1% of the time (ADR 0022); with single runs it cannot do as well.

A slow drift is not a change point. The trend check fits a line through every run of the last
TREND_RELEASES releases and flags a worsening slope that is significant (one-sided p < 5%) and
adds up to at least MIN_DRIFT over them, so a drift that each release's gate let through shows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from perfenv.cli.compare.releases import merge_runs, ordered_releases, stored_releases
from perfenv.cli.state.results import stored_runs
from perfenv.cli.state.store import Store
from perfenv.cli.verdict.histograms import merged
from perfenv.cli.verdict.measurement import ScenarioMeasurement, SummaryRun
from perfenv.cli.verdict.results import runs_from_results
from perfenv.cli.verdict.stats import latency_stats, steady

PENALTY = 4.0
TREND_RELEASES = 5
TREND_ALPHA = 0.05
MIN_DRIFT = 0.05  # of the first fitted value, over the trend's releases
METRICS = ("p50", "p95", "p99", "error_rate")


def _value(run: Any, metric: str) -> float | None:
    if isinstance(run, SummaryRun):
        return run.stats.get(metric)
    if not isinstance(run, ScenarioMeasurement):
        return None
    windows = steady(run)
    if metric == "error_rate":
        done = sum(w.ok + w.errors for w in windows)
        return sum(w.errors for w in windows) / done if done else None
    return latency_stats(merged(w.histogram for w in windows))[metric]


def _noise(levels: np.ndarray[Any, Any], runs: list[np.ndarray[Any, Any]]) -> float:
    """The noise of one release's (log) value."""
    within = [(r - r.mean(), len(r)) for r in runs if len(r) > 1]
    spread = 0.0
    if within:
        squares = sum(float((d**2).sum()) for d, _ in within)
        dof = sum(n - 1 for _, n in within)
        count = np.mean([n for _, n in within])
        spread = math.sqrt(squares / dof) / math.sqrt(count)
    steps = np.diff(levels)
    between = 1.4826 * float(np.median(np.abs(steps))) / math.sqrt(2) if len(steps) else 0.0
    return max(spread, between, 1e-3)


def change_points(runs: list[list[float]]) -> list[int]:
    """Indexes of the releases where a new level begins (each release: its runs' values)."""
    import ruptures  # numpy/scipy only; loaded when a history is asked for

    logs = [np.log(np.asarray(r, dtype=float)) for r in runs]
    levels = np.array([r.mean() for r in logs])
    if len(levels) < 4:
        return []
    sigma = _noise(levels, logs)
    algo = ruptures.Pelt(model="l2", min_size=2, jump=1).fit(levels.reshape(-1, 1))
    return [int(i) for i in algo.predict(pen=PENALTY * sigma**2 * math.log(len(levels)))[:-1]]


def trend(names: list[str], runs: list[list[float]]) -> dict[str, Any] | None:
    """The slope over the last TREND_RELEASES releases, fitted through every run."""
    from scipy import stats

    names, runs = names[-TREND_RELEASES:], runs[-TREND_RELEASES:]
    x = np.array([i for i, r in enumerate(runs) for _ in r], dtype=float)
    y = np.array([v for r in runs for v in r], dtype=float)
    if len(runs) < 3 or len(set(x)) < 3 or np.all(y == y[0]):
        return None
    fit = stats.linregress(x, y)
    first = fit.intercept
    relative = fit.slope / first if first else 0.0
    p = fit.pvalue / 2 if fit.slope > 0 else 1 - fit.pvalue / 2  # one-sided: getting worse
    drift = relative * (len(runs) - 1)
    flagged = bool(p < TREND_ALPHA and drift >= MIN_DRIFT)
    text = (
        f"{relative * 100:+.1f}% per release over {names[0]} .. {names[-1]} "
        f"(p={p:.3f}; {drift * 100:+.1f}% in all)"
    )
    return {
        "releases": names,
        "slope_per_release": relative,
        "p_value": p,
        "drift": drift,
        "flagged": flagged,
        "text": ("drifting: " if flagged else "no significant drift: ") + text,
    }


def _series(store: Store, suite: str, target: str, metric: str) -> dict[str, list[Any]]:
    """Scenario -> [(release, its runs' values)], releases oldest first."""
    releases = stored_releases(store, suite, target)
    out: dict[str, list[Any]] = {}
    for release in ordered_releases(releases):
        docs = [d for r in releases[release] if (d := store.get(r.key)) is not None]
        if not docs:
            continue
        for name, runs in runs_from_results(merge_runs(docs)).items():
            values = [v for r in runs if (v := _value(r, metric)) is not None and v > 0]
            if values:
                out.setdefault(name, []).append((release, values))
    return out


def history(
    store: Store, suite: str, *, target: str | None = None, metric: str = "p95", last: int = 0
) -> dict[str, Any]:
    """Every stored release of `suite` on `target` (default: where it last ran), by scenario."""
    if target is None:
        found = stored_runs(store, suite)
        target = found[-1].target if found else "url"
    scenarios = []
    for name, points in _series(store, suite, target, metric).items():
        points = points[-last:] if last else points
        names = [p[0] for p in points]
        runs = [p[1] for p in points]
        starts = set(change_points(runs))
        scenarios.append(
            {
                "scenario": name,
                "releases": [
                    {
                        "release": release,
                        "runs": len(values),
                        "value": float(np.mean(values)),
                        "change_point": i in starts,
                    }
                    for i, (release, values) in enumerate(points)
                ],
                "change_points": [names[i] for i in sorted(starts)],
                "trend": trend(names, runs),
            }
        )
    return {"suite": suite, "target": target, "metric": metric, "scenarios": scenarios}


def rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per scenario and release, for the table."""
    from perfenv.cli.verdict.budgets import value_text

    out = []
    for s in doc["scenarios"]:
        for point in s["releases"]:
            out.append(
                {
                    "scenario": s["scenario"],
                    "release": point["release"],
                    doc["metric"]: value_text(doc["metric"], point["value"]),
                    "runs": point["runs"],
                    "change": "change point" if point["change_point"] else "",
                }
            )
    return out
