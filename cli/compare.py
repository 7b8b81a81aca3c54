"""`perfenv compare`: did the candidate regress against the baseline?

Per scenario, the run-level statistic is p95 (p50 and p99 are shown, not judged: judging three
correlated percentiles at 5% each would triple the false alarms). A regression needs both:

- significance (one-sided, alpha 5%): with repeated runs on both sides (`--repeat`), Welch's
  t-test on the per-run values; with one run on a side, a moving-block bootstrap over the
  per-second windows (blocks of several seconds keep their autocorrelation);
- an effect of at least max(5%, 2 x the baseline's run-to-run noise). With repeats the noise is
  the per-run coefficient of variation. One run cannot show it directly; it is estimated as the
  larger of the bootstrap's spread and the variation across the run's four quarters, which on
  recorded runs of one build tracks the run-to-run noise (benchmarks/bench_compare.py).

The error rate regresses when it rises by at least 0.5 percentage points, significantly
(two-proportion z-test). For stress, both sides are compared on the steps up to the
baseline's knee: the same load where the baseline met its budgets.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from hdrh.histogram import HdrHistogram

from cli.budgets import PERCENTILES, value_text
from cli.errors import BadInput
from cli.judge import Run, SummaryRun, latency_stats, merged
from cli.measurement import ScenarioMeasurement, Window
from cli.results import read_results, runs_from_results
from cli.store import Store

ALPHA = 0.05
MIN_EFFECT = 0.05
NOISE_FACTOR = 2.0
MIN_ERROR_RATE_RISE = 0.005
LATENCY_METRICS = ("p50", "p95", "p99")
BOOTSTRAP_SAMPLES = 500
# Metrics whose regression fails the comparison; the others are shown, not judged. p95 is the
# run-level statistic; judging three correlated percentiles at 5% each would triple false alarms.
GATING = ("p95",)
BIN_RESOLUTION = 0.01  # bootstrap latencies in bins 1% wide: finer than the 5% effect floor


@dataclass(frozen=True, kw_only=True)
class Sample:
    """One side of a scenario: its runs' steady-state windows, or summary values."""

    windows: tuple[tuple[Window, ...], ...]  # per run
    summaries: tuple[dict[str, float | None], ...]  # per summary run

    @property
    def runs(self) -> int:
        return len(self.windows) or len(self.summaries)


# ---------------------------------------------------------------- statistics


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (Numerical Recipes, betacf)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-12:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with `df` degrees of freedom."""
    tail = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))
    return tail if t > 0 else 1.0 - tail


def welch_greater(base: Sequence[float], cand: Sequence[float]) -> float:
    """One-sided p-value of Welch's t-test that mean(cand) > mean(base)."""
    nb, nc = len(base), len(cand)
    mb, mc = sum(base) / nb, sum(cand) / nc
    vb = sum((x - mb) ** 2 for x in base) / (nb - 1)
    vc = sum((x - mc) ** 2 for x in cand) / (nc - 1)
    se2 = vb / nb + vc / nc
    if se2 == 0:
        return 0.0 if mc > mb else 1.0
    df = se2**2 / ((vb / nb) ** 2 / (nb - 1) + (vc / nc) ** 2 / (nc - 1))
    return t_sf((mc - mb) / math.sqrt(se2), df)


def proportion_greater(base: tuple[float, float], cand: tuple[float, float]) -> float:
    """One-sided p-value that the candidate's error proportion exceeds the baseline's."""
    (eb, nb), (ec, nc) = base, cand
    if nb <= 0 or nc <= 0:
        return 1.0
    pooled = (eb + ec) / (nb + nc)
    se = math.sqrt(pooled * (1 - pooled) * (1 / nb + 1 / nc))
    if se == 0:
        return 1.0
    z = (ec / nc - eb / nb) / se
    return 0.5 * math.erfc(z / math.sqrt(2))


# ---------------------------------------------------------------- block bootstrap


class _Binned:
    """Windows as rows of latency-bin counts on a shared, coarse log scale."""

    def __init__(self, sides: Sequence[Sequence[Window]]) -> None:
        decoded = [[HdrHistogram.decode(w.histogram) for w in side] for side in sides]
        used: set[int] = set()
        raw: list[list[np.ndarray[Any, Any]]] = []
        for side in decoded:
            rows = [
                np.ctypeslib.as_array(h.counts)[: h.counts_len].astype(np.float64) for h in side
            ]
            raw.append(rows)
            for row in rows:
                used.update(np.flatnonzero(row).tolist())
        index = np.array(sorted(used), dtype=np.int64)
        probe = decoded[0][0] if decoded and decoded[0] else HdrHistogram(1, 60_000_000, 3)
        values = np.array(
            [probe.get_highest_equivalent_value(probe.get_value_from_index(int(i))) for i in index],
            dtype=np.float64,
        )
        # Coarse bins: log-spaced, BIN_RESOLUTION wide; each bin keeps its top value.
        bins = (
            np.floor(np.log(np.maximum(values, 1.0)) / math.log1p(BIN_RESOLUTION)).astype(np.int64)
            if len(values)
            else np.array([], dtype=np.int64)
        )
        uniq, inverse = np.unique(bins, return_inverse=True)
        self.values = np.zeros(len(uniq))
        np.maximum.at(self.values, inverse, values)
        self.sides: list[np.ndarray[Any, Any]] = []
        for rows in raw:
            matrix = np.zeros((len(rows), len(uniq)))
            for r, row in enumerate(rows):
                np.add.at(matrix[r], inverse, row[index])
            self.sides.append(matrix)

    def percentiles(
        self, counts: np.ndarray[Any, Any], ps: Sequence[float]
    ) -> np.ndarray[Any, Any]:
        """Per row of bin counts, each p-th percentile (us): shape (len(ps), rows)."""
        counts = np.atleast_2d(counts)
        cums = np.cumsum(counts, axis=1)
        totals = cums[:, -1]
        out = np.full((len(ps), counts.shape[0]), np.nan)
        for k, p in enumerate(ps):
            target = np.maximum(1.0, np.floor(p / 100.0 * totals + 0.5))
            idx = np.minimum((cums < target[:, None]).sum(axis=1), len(self.values) - 1)
            out[k] = np.where(totals > 0, self.values[idx], np.nan)
        return out


def block_length(n: int) -> int:
    return int(min(30, max(3, round(n ** (1 / 3)))))


def block_resample(
    matrix: np.ndarray[Any, Any], samples: int, rng: np.random.Generator
) -> np.ndarray[Any, Any]:
    """Moving-block bootstrap: `samples` resampled sums of the rows of `matrix` (windows)."""
    n = matrix.shape[0]
    length = min(block_length(n), n)
    starts = n - length + 1
    blocks = math.ceil(n / length)
    cums = np.vstack([np.zeros((1, matrix.shape[1])), np.cumsum(matrix, axis=0)])
    block_sums = cums[length:] - cums[:-length]  # starts x bins
    weights = np.zeros((samples, starts))
    picks = rng.integers(0, starts, size=(samples, blocks))
    np.add.at(weights, (np.arange(samples)[:, None], picks), 1.0)
    # Scale to the original window count so that a last partial block weighs right.
    weights *= n / (blocks * length)
    result: np.ndarray[Any, Any] = weights @ block_sums
    return result


# ---------------------------------------------------------------- per scenario


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


def _decide(row: dict[str, Any], p_value: float, p_value_lower: float, noise: float) -> None:
    threshold = max(MIN_EFFECT, NOISE_FACTOR * noise)
    change = row["change"] or 0.0
    row.update(threshold=threshold, noise=noise, p_value=p_value)
    row["significant"] = p_value < ALPHA
    row["worse"] = p_value < ALPHA and change >= threshold
    row["improved"] = p_value_lower < ALPHA and change <= -threshold


def _compare_repeats(base: Sample, cand: Sample) -> list[dict[str, Any]]:
    rows = []
    for metric in LATENCY_METRICS:
        b, c = _per_run(base, metric), _per_run(cand, metric)
        if len(b) < 2 or len(c) < 2:
            rows.append(_row(metric, None, None))
            continue
        mb, mc = sum(b) / len(b), sum(c) / len(c)
        row = _row(metric, mb, mc)
        sd = math.sqrt(sum((x - mb) ** 2 for x in b) / (len(b) - 1))
        noise = sd / mb if mb else 0.0
        _decide(row, welch_greater(b, c), welch_greater(c, b), noise)
        rows.append(row)
    return rows


def _compare_bootstrap(base: Sample, cand: Sample, seed: int) -> list[dict[str, Any]]:
    b_windows = [w for run in base.windows for w in run]
    c_windows = [w for run in cand.windows for w in run]
    if not b_windows or not c_windows:
        return [_row(m, None, None) for m in LATENCY_METRICS]
    binned = _Binned([b_windows, c_windows])
    rng = np.random.default_rng(seed)
    b_matrix, c_matrix = binned.sides
    ps = [PERCENTILES[m] for m in LATENCY_METRICS]
    b_values = binned.percentiles(b_matrix.sum(axis=0), ps)[:, 0]
    c_values = binned.percentiles(c_matrix.sum(axis=0), ps)[:, 0]
    b_star = binned.percentiles(block_resample(b_matrix, BOOTSTRAP_SAMPLES, rng), ps)
    c_star = binned.percentiles(block_resample(c_matrix, BOOTSTRAP_SAMPLES, rng), ps)
    quarters = _quarters(binned, b_matrix, ps)
    rows = []
    for k, metric in enumerate(LATENCY_METRICS):
        b_value, c_value = float(b_values[k]), float(c_values[k])
        row = _row(metric, b_value / 1000, c_value / 1000)
        ratio = c_star[k] / b_star[k] - 1
        p_value = (1 + np.count_nonzero(ratio <= 0)) / (BOOTSTRAP_SAMPLES + 1)
        p_lower = (1 + np.count_nonzero(ratio >= 0)) / (BOOTSTRAP_SAMPLES + 1)
        spread = float(np.nanstd(b_star[k]) / b_value) if b_value else 0.0
        _decide(row, float(p_value), float(p_lower), max(spread, float(quarters[k])))
        rows.append(row)
    return rows


def _quarters(binned: _Binned, matrix: np.ndarray[Any, Any], ps: Sequence[float]) -> Any:
    """Per percentile, the coefficient of variation across the run's four quarters.

    Measured on recorded runs of one build, it tracks the run-to-run noise (which one run cannot
    show directly): load on a shared machine moves a run's percentiles over seconds, and those
    moves are what separates one whole run from the next.
    """
    n = matrix.shape[0] // 4
    if n < 2:
        return np.zeros(len(ps))
    sums = np.vstack([matrix[i * n : (i + 1) * n].sum(axis=0) for i in range(4)])
    values = binned.percentiles(sums, ps)  # (len(ps), 4)
    means = values.mean(axis=1)
    return np.where(means > 0, values.std(axis=1, ddof=1) / means, 0.0)


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
        f"{r['metric']} {_change_text(r)} (threshold {_threshold_text(r)}, p={r['p_value']:.3f})"
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


def _verdict(row: dict[str, Any]) -> str:
    if row["regressed"]:
        return "REGRESSED"
    if row["worse"]:
        return "slower (not gating)"
    return "improved" if row["improved"] else "ok"


def _first(values: list[float]) -> float | None:
    return values[0] if values else None


def _change_text(row: dict[str, Any]) -> str:
    if row["change"] is None:
        return ""
    if row["metric"] == "error_rate":
        return f"{row['change'] * 100:+.2f} pp"
    return f"{row['change'] * 100:+.1f}%"


def _threshold_text(row: dict[str, Any]) -> str:
    if row["threshold"] is None:
        return ""
    unit = " pp" if row["metric"] == "error_rate" else "%"
    return f"{row['threshold'] * 100:.1f}{unit}"


def _knee(doc: dict[str, Any], name: str) -> float | None:
    for scenario in doc.get("scenarios", []):
        if scenario["name"] == name and scenario.get("kind") == "stress":
            knee = (scenario.get("analysis") or {}).get("knee_rate")
            return float(knee) if knee is not None else None
    return None


def compare_results(
    baseline: dict[str, Any],
    candidate: dict[str, Any],
    *,
    baseline_label: str,
    candidate_label: str = "candidate",
    seed: int = 0,
) -> dict[str, Any]:
    """The regression verdict of `candidate` against `baseline`, per common scenario."""
    base_runs, cand_runs = runs_from_results(baseline), runs_from_results(candidate)
    kinds = {s["name"]: s.get("verdict") for s in candidate.get("scenarios", [])}
    base_kinds = {s["name"]: s.get("verdict") for s in baseline.get("scenarios", [])}
    scenarios, skipped = [], []
    for name, runs in cand_runs.items():
        if name not in base_runs:
            skipped.append(f"{name}: not in the baseline")
            continue
        if "invalid" in (kinds.get(name), base_kinds.get(name)):
            skipped.append(f"{name}: an invalid measurement is not compared")
            continue
        result = compare_scenario(
            name, base_runs[name], runs, max_rate=_knee(baseline, name), seed=seed
        )
        scenarios.append(result)
    return {
        "baseline": baseline_label,
        "candidate": candidate_label,
        "regressed": any(s["regressed"] for s in scenarios),
        "scenarios": scenarios,
        "skipped": skipped,
    }


def rows(comparison: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per scenario and metric: what moved, for `perfenv compare`'s table."""
    out = []
    for s in comparison["scenarios"]:
        for r in s["metrics"]:
            verdict = _verdict(r)
            out.append(
                {
                    "scenario": s["scenario"],
                    "metric": r["metric"],
                    "baseline": r["baseline_text"],
                    "candidate": r["candidate_text"],
                    "change": _change_text(r),
                    "threshold": _threshold_text(r),
                    "p": f"{r['p_value']:.3f}" if r["p_value"] is not None else "",
                    "method": s["method"],
                    "runs": f"{s['runs'][0]}/{s['runs'][1]}",
                    "verdict": verdict,
                }
            )
    return out


# ---------------------------------------------------------------- baselines in the store

_SEMVER = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$")
_RELEASE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def check_release(release: str) -> str:
    if not _RELEASE.match(release) or ".." in release:
        raise BadInput(f"--release: {release!r} is not a release name like 1.4.2 or v2-rc1")
    return release


def semver_key(release: str) -> tuple[int, int, int, int, tuple[Any, ...]] | None:
    """A sort key by semantic version (a pre-release sorts before its release); None if not one."""
    match = _SEMVER.match(release)
    if not match:
        return None
    major, minor, patch, pre = match.groups()
    pre_key: tuple[Any, ...] = ()
    if pre:
        pre_key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (int(major), int(minor), int(patch or 0), 0 if pre else 1, pre_key)


def stored_releases(store: Store) -> dict[str, list[str]]:
    """Release name -> its stored run ids (oldest first)."""
    out: dict[str, list[str]] = {}
    for key in store.keys("results/"):
        parts = key.split("/")
        if len(parts) == 3 and parts[2].endswith(".json"):
            out.setdefault(parts[1], []).append(parts[2].removesuffix(".json"))
    return {release: sorted(ids) for release, ids in out.items()}


def previous_release(store: Store, current: str | None) -> str | None:
    """The latest release stored before `current`: by semantic version, else by stored time."""
    releases = stored_releases(store)
    releases.pop(current or "", None)
    if not releases:
        return None
    current_key = semver_key(current) if current else None
    if current_key is not None:
        earlier = [
            (key, r) for r in releases if (key := semver_key(r)) is not None and key < current_key
        ]
        if earlier:
            return max(earlier)[1]
    # Run ids start with their UTC timestamp, so the newest id is the latest stored run.
    return max(releases, key=lambda r: releases[r][-1])


def release_results(store: Store, release: str, suite: str | None = None) -> dict[str, Any]:
    """A release's stored results as one document: every stored run of a scenario is a repeat."""
    ids = stored_releases(store).get(release)
    if not ids:
        raise BadInput(f"no results stored for release {release!r} in {store.url}")
    docs = [d for i in ids if (d := store.get(f"results/{release}/{i}.json")) is not None]
    if suite is not None:
        docs = [d for d in docs if d.get("suite", {}).get("name") == suite] or docs
    latest = docs[-1]
    merged_doc = {
        **latest,
        "scenarios": [dict(s, runs=list(s["runs"])) for s in latest["scenarios"]],
    }
    by_name = {s["name"]: s for s in merged_doc["scenarios"]}
    for doc in docs[:-1]:
        for scenario in doc.get("scenarios", []):
            if scenario["name"] in by_name and scenario.get("verdict") != "invalid":
                by_name[scenario["name"]]["runs"].extend(scenario["runs"])
    return merged_doc


def resolve(spec: str, store: Store, suite: str | None = None) -> tuple[str, dict[str, Any]]:
    """(label, results document) for a results.json path or a release name in the store."""
    path = Path(spec)
    if path.is_dir():
        path = path / "results.json"
    if path.suffix == ".json" or path.exists():
        return str(path), read_results(path)
    check_release(spec)
    return f"release {spec}", release_results(store, spec, suite)


def compare_specs(baseline: str, candidate: str, store: Store, *, seed: int = 0) -> dict[str, Any]:
    base_label, base_doc = resolve(baseline, store)
    cand_label, cand_doc = resolve(candidate, store)
    return compare_results(
        base_doc, cand_doc, baseline_label=base_label, candidate_label=cand_label, seed=seed
    )
