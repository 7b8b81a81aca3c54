"""summary.md: the verdict in a form that fits a CI step summary (GitHub `$GITHUB_STEP_SUMMARY`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perfenv.cli.render import Format, render
from perfenv.cli.reports import events
from perfenv.cli.reports.history import history_lines
from perfenv.cli.verdict.budgets import value_text
from perfenv.cli.verdict.capacity import capacity_lines

ICON = {
    "pass": "✅ pass",
    "fail": "❌ fail",
    "invalid": "⚠️ invalid",
    "aborted": "❌ aborted by budget",
    "skipped": "⏭️ skipped",
}
HEADLINE = {"aborted": "aborted by budget"}  # a verdict as a headline says what happened


def _ms(value: float | None) -> str:
    return value_text("p95", value)


def _pct(value: float | None) -> str:
    return value_text("error_rate", value)


def _verdict(verdict: str, icons: bool) -> str:
    return ICON.get(verdict, verdict) if icons else verdict


def verdict_rows(doc: dict[str, Any], icons: bool = True) -> list[dict[str, Any]]:
    rows = []
    for s in doc["scenarios"]:
        stats, plan = s["stats"], s["plan"]
        duration = max(1, plan["duration_s"] - plan["warmup_s"])
        steady_rates = plan["rates"][plan["warmup_s"] :] or plan["rates"]
        rows.append(
            {
                "scenario": s["name"],
                "kind": s["kind"],
                "verdict": _verdict(s["verdict"], icons),
                "planned req/s": f"{sum(steady_rates) / duration:.1f}",
                "achieved req/s": f"{stats.get('achieved_rps') or 0:.1f}",
                "p50": _ms(stats.get("p50")),
                "p95": _ms(stats.get("p95")),
                "p99": _ms(stats.get("p99")),
                "errors": _pct(stats.get("error_rate")),
                "runs": len(s["runs"]),
                "note": s["reason"],
            }
        )
    return rows


def budget_rows(doc: dict[str, Any], icons: bool = True) -> list[dict[str, Any]]:
    return [
        {
            "scenario": s["name"],
            "budget": b["budget"],
            "measured": value_text(b["metric"], b["value"]),
            "verdict": _verdict(b["verdict"], icons),
        }
        for s in doc["scenarios"]
        for b in s["budgets"]
    ]


def comparison_rows(comparison: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for s in comparison.get("scenarios", []):
        for m in s.get("metrics", []):
            rows.append(
                {
                    "scenario": s["scenario"],
                    "metric": m["metric"],
                    "baseline": m.get("baseline_text", ""),
                    "candidate": m.get("candidate_text", ""),
                    "change": _percent(m.get("change"), m["metric"], signed=True),
                    "threshold": _percent(m.get("threshold"), m["metric"]),
                    "p": f"{m['p_value']:.3f}" if m.get("p_value") is not None else "",
                    "verdict": _moved(m),
                }
            )
    return rows


def environment_note(comparison: dict[str, Any]) -> str:
    """What the two sides ran on, when it differs or is unknown ('' otherwise)."""
    return str((comparison.get("environment") or {}).get("note") or "")


def _percent(value: float | None, metric: str, *, signed: bool = False) -> str:
    """A relative change (latency) or an absolute one in percentage points (error rate)."""
    if value is None:
        return ""
    unit = " pp" if metric == "error_rate" else "%"
    return f"{value * 100:+.1f}{unit}" if signed else f"{value * 100:.1f}{unit}"


def _moved(metric: dict[str, Any]) -> str:
    if metric.get("regressed"):
        return "regressed"
    if metric.get("worse"):
        return "slower (not gating)"
    return "improved" if metric.get("improved") else "ok"


def flat_rows(section: dict[str, Any]) -> list[dict[str, Any]]:
    """A section's scalar fields as `field | value` rows."""
    return [
        {"field": key, "value": value}
        for key, value in section.items()
        if not isinstance(value, dict | list)
    ]


def analysis_lines(doc: dict[str, Any]) -> list[str]:
    lines = []
    for s in doc["scenarios"]:
        a = s.get("analysis") or {}
        if s["kind"] == "stress" and "steps" in a:
            knee = a.get("knee_rate")
            broke = a.get("broke_at")
            text = f"knee at **{knee:g} req/s**" if knee is not None else "no step met the budgets"
            if knee is not None and not broke:
                text = (
                    f"met the budgets at every step up to {knee:g} req/s (no knee below max_rate)"
                )
            if broke:
                text += f"; broke at {broke['rate']:g} req/s ({'; '.join(broke['broken'])})"
            lines.append(f"- **{s['name']}** (stress): {text}")
        elif s["kind"] == "spike" and "recovery_s" in a:
            recovery = (
                f"recovered {a['recovery_s']} s after the spike"
                if a.get("recovered")
                else "p95 did not recover before the end"
            )
            lines.append(
                f"- **{s['name']}** (spike): error rate during the spike "
                f"{_pct(a.get('spike_error_rate'))}, p95 {_ms(a.get('spike_p95_ms'))}; {recovery}"
            )
        elif s["kind"] == "soak" and "p95_drift" in a:
            drift = a.get("p95_drift")
            drift_text = f"{drift * 100:+.1f}%" if drift is not None else "n/a"
            lines.append(
                f"- **{s['name']}** (soak): p95 drift {drift_text} "
                f"(first quarter {_ms(a.get('first_quarter_p95_ms'))}, "
                f"last quarter {_ms(a.get('last_quarter_p95_ms'))})"
            )
        elif line := events.summary_line(s):
            lines.append(line)
    return lines


def summary_md(doc: dict[str, Any]) -> str:
    verdict = doc["verdict"]
    comparison = doc.get("comparison")
    if comparison and comparison.get("regressed") and verdict == "pass":
        headline = "❌ regression"
    else:
        headline = ICON.get(verdict, verdict)
    release = f" · release `{doc['release']}`" if doc.get("release") else ""
    parts = [
        f"## perfenv · {doc['suite']['name']}: {headline}",
        "",
        f"Target `{doc['target']['url']}`{release} · run `{doc['run_id']}` · "
        f"exit code {doc['exit_code']}",
        "",
        *([f"**{doc['aborted']['reason']}**", ""] if doc.get("aborted") else []),
        render(verdict_rows(doc), Format.md, title="Scenarios"),
    ]
    budgets = budget_rows(doc)
    if budgets:
        parts.append(render(budgets, Format.md, title="Budgets (steady state)"))
    notes = analysis_lines(doc)
    if notes:
        parts += ["### Shapes", "", *notes, ""]
    if comparison:
        title = f"Comparison with baseline {comparison['baseline']}"
        rows = comparison_rows(comparison)
        if rows:
            parts.append(render(rows, Format.md, title=title))
        else:
            parts += [f"### {title}", "", "no scenario in common to compare", ""]
        remarks = {s["note"] for s in comparison.get("scenarios", []) if s.get("note")}
        remarks |= {environment_note(comparison)} - {""}
        remarks |= {f"skipped {text}" for text in comparison.get("skipped", [])}
        parts += [f"- {text}" for text in sorted(remarks)] + ([""] if remarks else [])
    if doc.get("capacity"):
        parts += [
            "### Capacity",
            "",
            *[f"- {line}" for line in capacity_lines(doc["capacity"])],
            "",
        ]
    if doc.get("history"):
        parts += ["### Trend of the last releases", "", *history_lines(doc["history"]), ""]
    if doc.get("cost"):
        parts.append(render(flat_rows(doc["cost"]), Format.md, title="Cost of the run"))
    return "\n".join(parts)


def write_summary(doc: dict[str, Any], path: Path) -> Path:
    path.write_text(summary_md(doc))
    return path
