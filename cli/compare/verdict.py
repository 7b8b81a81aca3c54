"""The comparison of two results documents, and its table for `perfenv compare`."""

from __future__ import annotations

from typing import Any

from perfenv.cli.compare.releases import resolve, resolve_any
from perfenv.cli.compare.scenario import change_text, compare_scenario, threshold_text
from perfenv.cli.program.shape import shape_note
from perfenv.cli.state.results import suite_name, target_kind
from perfenv.cli.state.store import Store
from perfenv.cli.verdict.results import runs_from_results


def _verdict(row: dict[str, Any]) -> str:
    if row["regressed"]:
        return "REGRESSED"
    if row["worse"]:
        return "slower (not gating)"
    return "improved" if row["improved"] else "ok"


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
        "environment": _environment(baseline, candidate),
        "scenarios": scenarios,
        "skipped": skipped,
    }


def _shape(doc: dict[str, Any]) -> dict[str, Any] | None:
    shape = (doc.get("target") or {}).get("shape")
    return shape if isinstance(shape, dict) else None


def _environment(baseline: dict[str, Any], candidate: dict[str, Any]) -> dict[str, Any]:
    """What each side ran on, and the sentence naming a difference ('' when the same)."""
    base, cand = _shape(baseline), _shape(candidate)
    return {
        "baseline": (base or {}).get("description", "unknown"),
        "candidate": (cand or {}).get("description", "unknown"),
        "note": shape_note(base, cand),
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
                    "change": change_text(r),
                    "threshold": threshold_text(r),
                    "p": f"{r['p_value']:.3f}" if r["p_value"] is not None else "",
                    "method": s["method"],
                    "runs": f"{s['runs'][0]}/{s['runs'][1]}",
                    "verdict": verdict,
                }
            )
    return out


def compare_specs(baseline: str, candidate: str, store: Store, *, seed: int = 0) -> dict[str, Any]:
    """`perfenv compare`: the candidate as given; the baseline of the candidate's suite and
    target kind (a release's runs on the candidate's shape preferred)."""
    cand_label, cand_doc = resolve_any(candidate, store)
    shape = (_shape(cand_doc) or {}).get("fingerprint")
    base_label, base_doc = resolve(
        baseline, store, suite_name(cand_doc), target_kind(cand_doc), shape
    )
    return compare_results(
        base_doc, cand_doc, baseline_label=base_label, candidate_label=cand_label, seed=seed
    )
