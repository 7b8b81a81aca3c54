"""One scenario's verdict: p50/p95/p99 and the error rate, candidate against baseline."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from perfenv.cli.compare.bootstrap import Binned, block_resample, quarter_noise
from perfenv.cli.compare.stats import proportion_greater, welch_greater
from perfenv.cli.verdict.budgets import PERCENTILES, value_text
from perfenv.cli.verdict.histograms import merged
from perfenv.cli.verdict.measurement import Run, ScenarioMeasurement, SummaryRun, Window
from perfenv.cli.verdict.stats import latency_stats

ALPHA = 0.05
MIN_EFFECT = 0.05  # the practical minimum change that is a regression
NOISE_FACTOR = 2.0  # one run a side: the threshold is also this times the estimated noise
MIN_ERROR_RATE_RISE = 0.005
LATENCY_METRICS = ("p50", "p95", "p99")
BOOTSTRAP_SAMPLES = 500
# Metrics whose regression fails the comparison; the others are shown, not judged. p95 is the
# run-level statistic; judging three correlated percentiles at 5% each would triple false alarms.
GATING = ("p95",)


@dataclass(frozen=True, kw_only=True)
class Sample:
    """One side of a scenario: its runs' steady-state windows, or summary values."""

    windows: tuple[tuple[Window, ...], ...]  # per run
    summaries: tuple[dict[str, float | None], ...]  # per summary run

    @property
    def runs(self) -> int:
        return len(self.windows) or len(self.summaries)


def _steady(run: ScenarioMeasurement, max_rate: float | None) -> tuple[Window, ...]:
    return tuple(
        w
        for w in run.windows
        if w.t >= run.warmup_s and (max_rate is None or w.planned <= max_rate + 0.5)
    )


def sample(runs: Sequence[Run], max_rate: float | None = None) -> Sample:
    measured = [r for r in runs if isinstance(r, ScenarioMeasurement)]
    if measured:
        return Sample(windows=tuple(_steady(r, max_rate) for r in measured), summaries=())
    return Sample(windows=(), summaries=tuple(r.stats for r in runs if isinstance(r, SummaryRun)))


def _per_run(side: Sample, metric: str) -> list[float]:
    if side.windows:
        out = []
        for windows in side.windows:
            value = latency_stats(merged(w.histogram for w in windows))[metric]
            if value is not None:
                out.append(value)
        return out
    return [v for s in side.summaries if (v := s.get(metric)) is not None]


def _errors(side: Sample) -> tuple[float, float]:
    if side.windows:
        windows = [w for run in side.windows for w in run]
        return float(sum(w.errors for w in windows)), float(sum(w.ok + w.errors for w in windows))
    errors = sum(float(s.get("errors") or 0.0) for s in side.summaries)
    done = sum(float(s.get("sent") or 0.0) for s in side.summaries)
    return errors, done


def _row(metric: str, base: float | None, cand: float | None) -> dict[str, Any]:
    change = (cand / base - 1) if base and cand is not None else None
    return {
        "metric": metric,
        "baseline": base,
        "candidate": cand,
        "baseline_text": value_text(metric, base),
        "candidate_text": value_text(metric, cand),
        "change": change,
        "threshold": None,
        "noise": None,
        "p_value": None,
        "significant": False,
        "worse": False,  # significant and at least the threshold
        "gating": metric in GATING or metric == "error_rate",
        "regressed": False,  # worse, on a metric that fails the comparison
        "improved": False,
    }


def _decide(
    row: dict[str, Any], p_value: float, p_value_lower: float, noise: float, threshold: float
) -> None:
    change = row["change"] or 0.0
    row.update(threshold=threshold, noise=noise, p_value=p_value)
    row["significant"] = p_value < ALPHA
    row["worse"] = p_value < ALPHA and change >= threshold
    row["improved"] = p_value_lower < ALPHA and change <= -threshold


def _compare_repeats(base: Sample, cand: Sample) -> list[dict[str, Any]]:
    """Welch's t-test on the log of each run's value; the change is the ratio of geometric
    means. The threshold is the practical minimum alone: the test already asks the change to
    exceed its own standard error (which shrinks as runs are added) t times over (ADR 0035)."""
    rows = []
    for metric in LATENCY_METRICS:
        b = [math.log(v) for v in _per_run(base, metric) if v > 0]
        c = [math.log(v) for v in _per_run(cand, metric) if v > 0]
        if len(b) < 2 or len(c) < 2:
            rows.append(_row(metric, None, None))
            continue
        mb, mc = sum(b) / len(b), sum(c) / len(c)
        row = _row(metric, math.exp(mb), math.exp(mc))
        noise = math.sqrt(sum((x - mb) ** 2 for x in b) / (len(b) - 1))  # per-run, as a CV
        _decide(row, welch_greater(b, c), welch_greater(c, b), noise, MIN_EFFECT)
        rows.append(row)
    return rows


def _compare_bootstrap(base: Sample, cand: Sample, seed: int) -> list[dict[str, Any]]:
    b_windows = [w for run in base.windows for w in run]
    c_windows = [w for run in cand.windows for w in run]
    if not b_windows or not c_windows:
        return [_row(m, None, None) for m in LATENCY_METRICS]
    binned = Binned([b_windows, c_windows])
    rng = np.random.default_rng(seed)
    b_matrix, c_matrix = binned.sides
    ps = [PERCENTILES[m] for m in LATENCY_METRICS]
    b_values = binned.percentiles(b_matrix.sum(axis=0), ps)[:, 0]
    c_values = binned.percentiles(c_matrix.sum(axis=0), ps)[:, 0]
    b_star = binned.percentiles(block_resample(b_matrix, BOOTSTRAP_SAMPLES, rng), ps)
    c_star = binned.percentiles(block_resample(c_matrix, BOOTSTRAP_SAMPLES, rng), ps)
    quarters = quarter_noise(binned, b_matrix, ps)
    rows = []
    for k, metric in enumerate(LATENCY_METRICS):
        b_value, c_value = float(b_values[k]), float(c_values[k])
        row = _row(metric, b_value / 1000, c_value / 1000)
        ratio = c_star[k] / b_star[k] - 1
        p_value = (1 + np.count_nonzero(ratio <= 0)) / (BOOTSTRAP_SAMPLES + 1)
        p_lower = (1 + np.count_nonzero(ratio >= 0)) / (BOOTSTRAP_SAMPLES + 1)
        spread = float(np.nanstd(b_star[k]) / b_value) if b_value else 0.0
        noise = max(spread, float(quarters[k]))
        _decide(row, float(p_value), float(p_lower), noise, max(MIN_EFFECT, NOISE_FACTOR * noise))
        rows.append(row)
    return rows


def _compare_errors(base: Sample, cand: Sample) -> dict[str, Any]:
    b, c = _errors(base), _errors(cand)
    b_rate = b[0] / b[1] if b[1] else None
    c_rate = c[0] / c[1] if c[1] else None
    row = _row("error_rate", b_rate, c_rate)
    if b_rate is None or c_rate is None:
        return row
    rise = c_rate - b_rate
    row["change"] = rise  # absolute, in percentage points
    p_value = proportion_greater(b, c)
    row.update(threshold=MIN_ERROR_RATE_RISE, p_value=p_value, significant=p_value < ALPHA)
    row["worse"] = p_value < ALPHA and rise >= MIN_ERROR_RATE_RISE
    row["improved"] = proportion_greater(c, b) < ALPHA and rise <= -MIN_ERROR_RATE_RISE
    return row


def compare_scenario(
    name: str,
    base_runs: Sequence[Run],
    cand_runs: Sequence[Run],
    *,
    max_rate: float | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    base, cand = sample(base_runs, max_rate), sample(cand_runs, max_rate)
    note = ""
    if base.runs >= 2 and cand.runs >= 2:
        method = "welch"
        rows = _compare_repeats(base, cand)
    elif base.windows and cand.windows:
        method = "block-bootstrap"
        note = "one run on a side: noise is estimated from within the run; --repeat judges better"
        rows = _compare_bootstrap(base, cand, seed)
    else:
        method = "none"
        note = "one summary run per side: repeat the runs (--repeat) to judge latency"
        rows = [
            _row(m, _first(_per_run(base, m)), _first(_per_run(cand, m))) for m in LATENCY_METRICS
        ]
    rows.append(_compare_errors(base, cand))
    for r in rows:
        r["regressed"] = r["worse"] and r["gating"]
    moved = [r for r in rows if r["regressed"]]
    summary = "; ".join(
        f"{r['metric']} {change_text(r)} (threshold {threshold_text(r)}, p={r['p_value']:.3f})"
        for r in moved
    )
    return {
        "scenario": name,
        "method": method,
        "runs": [base.runs, cand.runs],
        "regressed": bool(moved),
        "summary": summary or "no regression",
        "note": note,
        "metrics": rows,
    }


def _first(values: list[float]) -> float | None:
    return values[0] if values else None


def change_text(row: dict[str, Any]) -> str:
    if row["change"] is None:
        return ""
    if row["metric"] == "error_rate":
        return f"{row['change'] * 100:+.2f} pp"
    return f"{row['change'] * 100:+.1f}%"


def threshold_text(row: dict[str, Any]) -> str:
    if row["threshold"] is None:
        return ""
    unit = " pp" if row["metric"] == "error_rate" else "%"
    return f"{row['threshold'] * 100:.1f}{unit}"
