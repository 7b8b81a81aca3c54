"""The trend of a suite's last releases, change points marked: for report.html, summary.md and
`perfenv history --format html`."""

from __future__ import annotations

import html
from typing import Any

from perfenv.cli.verdict.budgets import value_text


def history_lines(doc: dict[str, Any]) -> list[str]:
    """Markdown: per scenario, the releases' values in order, change points and trend named."""
    metric = doc["metric"]
    lines = []
    for s in doc["scenarios"]:
        values = " → ".join(
            ("**⟂ " if p["change_point"] else "")
            + f"{p['release']} {value_text(metric, p['value'])}"
            + ("**" if p["change_point"] else "")
            for p in s["releases"]
        )
        lines.append(f"- **{s['scenario']}** {metric}: {values}")
        if s["change_points"]:
            lines.append(f"  - change point at {', '.join(s['change_points'])}")
        if s["trend"]:
            lines.append(f"  - trend: {s['trend']['text']}")
    return lines


def history_figure(scenario: dict[str, Any], metric: str, salt: str) -> str:
    """Inline SVG: the value per release, each change point a dashed line where the level
    changed, the trend's fit over its releases."""
    import matplotlib
    from matplotlib.figure import Figure

    from perfenv.cli.reports.svg import svg

    points = scenario["releases"]
    names = [p["release"] for p in points]
    values = [p["value"] * (1 if metric.startswith("p") else 100) for p in points]
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt, "font.size": 9}):
        fig = Figure(figsize=(11, 2.8))
        ax = fig.subplots()
        ax.plot(range(len(values)), values, marker="o", color="#0969da", label=metric)
        for i, p in enumerate(points):
            if p["change_point"]:
                ax.axvline(i - 0.5, color="#cf222e", linestyle="--", label="change point")
        trend = scenario.get("trend")
        if trend:
            start = names.index(trend["releases"][0])
            color = "#cf222e" if trend["flagged"] else "#57606a"
            span = range(start, len(values))
            level = sum(values[start:]) / len(span)
            mid = (span[0] + span[-1]) / 2
            fitted = [level * (1 + trend["slope_per_release"] * (i - mid)) for i in span]
            ax.plot(span, fitted, color=color, linestyle=":", label="trend")
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
        ax.set_ylabel(f"{metric} ({'ms' if metric.startswith('p') else '%'})")
        ax.legend(loc="upper left", fontsize=8)
        fig.tight_layout()
        return svg(fig)


def history_html(doc: dict[str, Any], salt: str = "history") -> str:
    """Sections for a page: a figure and the trend's sentence per scenario."""
    parts = []
    for i, s in enumerate(doc["scenarios"]):
        caption = "; ".join(
            ([f"change point at {', '.join(s['change_points'])}"] if s["change_points"] else [])
            + ([s["trend"]["text"]] if s["trend"] else [])
        )
        figure = history_figure(s, doc["metric"], f"{salt}-{i}")
        parts.append(
            f"<section><h2>{html.escape(s['scenario'])}: {html.escape(doc['metric'])} by "
            f"release</h2><figure>{figure}<figcaption>{html.escape(caption)}</figcaption>"
            "</figure></section>"
        )
    return "".join(parts)


def history_page(doc: dict[str, Any]) -> str:
    title = f"perfenv history · {doc['suite']} ({doc['target']})"
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>'
        f"{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f"{history_html(doc)}</body></html>\n"
    )
