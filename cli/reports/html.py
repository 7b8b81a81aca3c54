"""report.html: one self-contained page with the verdicts and plots (inline SVG from matplotlib)."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from perfenv.cli.render import Format, render
from perfenv.cli.reports import events
from perfenv.cli.reports import server as server_report
from perfenv.cli.reports.history import history_html
from perfenv.cli.reports.markdown import (
    HEADLINE,
    analysis_lines,
    budget_rows,
    comparison_rows,
    environment_note,
    flat_rows,
    verdict_rows,
)
from perfenv.cli.reports.svg import svg
from perfenv.cli.verdict.capacity import capacity_lines
from perfenv.cli.verdict.histograms import merged

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;
color:#1f2328;padding:0 1rem}
table{border-collapse:collapse;margin:0.5rem 0 1.5rem;font-size:0.9rem}
th,td{border:1px solid #d0d7de;padding:0.3rem 0.6rem;text-align:left;vertical-align:top}
th{background:#f6f8fa} caption{text-align:left;font-weight:600;padding:0.3rem 0}
.pass{color:#1a7f37}.fail,.aborted{color:#cf222e}.invalid{color:#9a6700}.skipped{color:#6e7781}
figure{margin:0 0 2rem} svg{max-width:100%;height:auto}
"""

_PERCENTILE_TICKS = (50.0, 90.0, 99.0, 99.9, 99.99)


def _series(run: dict[str, Any]) -> dict[str, list[Any]]:
    windows = run.get("windows", [])
    return {
        "t": [w["t"] for w in windows],
        "achieved": [w["ok"] + w["errors"] for w in windows],
        "errors": [w["errors"] for w in windows],
        "p50": [w["p50_ms"] for w in windows],
        "p95": [w["p95_ms"] for w in windows],
        "p99": [w["p99_ms"] for w in windows],
    }


def _distribution(scenario: dict[str, Any]) -> tuple[list[float], list[float]]:
    """(x = -log10(1 - p), latency ms) of the pooled steady-state histogram."""
    encoded = [
        w["histogram"]
        for run in scenario["runs"]
        for w in run.get("windows", [])
        if w["t"] >= run.get("warmup_s", 0)
    ]
    hist = merged(encoded)
    if hist.get_total_count() == 0:
        return [], []
    xs, ys = [], []
    steps = 60
    for i in range(steps + 1):
        x = 4.0 * i / steps  # 0 .. 99.99th percentile
        p = 100.0 * (1 - 10**-x)
        xs.append(x)
        ys.append(hist.get_value_at_percentile(p) / 1000)
    return xs, ys


def scenario_figure(
    scenario: dict[str, Any],
    salt: str,
    server: list[dict[str, Any]] | None = None,
    period_s: int = 1,
) -> str:
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt, "font.size": 9}):
        rows = 3 if server else 2
        fig = Figure(figsize=(11, 3.1 * rows))
        grid = fig.subplots(rows, 2)
        (rate_ax, lat_ax), (err_ax, dist_ax) = grid[0], grid[1]
        plan = scenario["plan"]
        warmup = plan["warmup_s"]
        rates = plan["rates"]
        rate_ax.step(range(len(rates)), rates, where="post", label="target", color="#57606a")
        for i, run in enumerate(scenario["runs"]):
            s = _series(run)
            label = "achieved" if i == 0 else None
            rate_ax.step(
                s["t"], s["achieved"], where="post", color="#0969da", alpha=0.8, label=label
            )
            for key, color in (("p50", "#1a7f37"), ("p95", "#bf8700"), ("p99", "#cf222e")):
                points = [(t, v) for t, v in zip(s["t"], s[key], strict=True) if v is not None]
                if points:
                    tx, vy = zip(*points, strict=True)
                    lat_ax.step(
                        tx, vy, where="post", color=color, alpha=0.85, label=key if i == 0 else None
                    )
            err_ax.bar(
                s["t"],
                s["errors"],
                width=1.0,
                align="edge",
                color="#cf222e",
                alpha=0.7,
                label="errors" if i == 0 else None,
            )
        for budget in scenario["budgets"]:
            if budget["unit"] == "ms":
                lat_ax.axhline(budget["threshold"], linestyle="--", linewidth=0.8, color="#6e7781")
                lat_ax.annotate(
                    budget["budget"],
                    (0, budget["threshold"]),
                    fontsize=7,
                    color="#6e7781",
                    va="bottom",
                )
        for ax in (rate_ax, lat_ax, err_ax):
            if warmup:
                ax.axvspan(0, warmup, color="#d0d7de", alpha=0.4, lw=0)
            analysis = scenario.get("analysis") or {}
            if scenario["kind"] == "spike":
                at, length = scenario["config"]["spike_at"], scenario["config"]["spike_for"]
                ax.axvspan(at, at + length, color="#fff8c5", alpha=0.6, lw=0)
            if scenario["kind"] == "stress" and analysis.get("broke_at"):
                ax.axvline(
                    _step_start(analysis, analysis["broke_at"]["rate"]),
                    color="#cf222e",
                    linestyle=":",
                    linewidth=1,
                )
            ax.set_xlabel("seconds")
        events.mark([rate_ax, lat_ax, err_ax], rate_ax, scenario)
        rate_ax.set_title("target vs achieved rate (req/s)")
        lat_ax.set_title("latency over time (ms, from scheduled send)")
        err_ax.set_title("errors per second")
        _log_ms(lat_ax)
        xs, ys = _distribution(scenario)
        if xs:
            dist_ax.plot(xs, ys, color="#8250df")
            _log_ms(dist_ax)
        ticks = [-math.log10(1 - p / 100) for p in _PERCENTILE_TICKS]
        dist_ax.set_xticks(ticks, [f"{p:g}%" for p in _PERCENTILE_TICKS])
        dist_ax.set_title("latency by percentile (ms, steady state)")
        if server:
            axes = {"rate": rate_ax, "latency": lat_ax, "cpu": grid[2][0], "fleet": grid[2][1]}
            server_report.draw(axes, server, period_s)
        for ax in (rate_ax, lat_ax, err_ax):
            handles, _labels = ax.get_legend_handles_labels()
            if handles:
                ax.legend(loc="upper left", fontsize=7)
        fig.tight_layout()
        return svg(fig)


def _log_ms(ax: Any) -> None:
    """A log axis that reads in plain milliseconds (5, 20, 100), not powers of ten."""
    from matplotlib.ticker import FuncFormatter

    ax.set_yscale("log")
    plain = FuncFormatter(lambda value, _pos: f"{value:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _p: f"{v:g}" if str(v)[0] in "25" else ""))


def _step_start(analysis: dict[str, Any], rate: float) -> float:
    for step in analysis.get("steps", []):
        if step["rate"] == rate:
            return float(step["start_s"])
    return 0.0


def _section(title: str, body: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2>{body}</section>"


def _verdict_table(rows: list[dict[str, Any]], title: str) -> str:
    """A table whose verdict cells are coloured words (emoji need fonts a browser may lack)."""
    table = render(rows, Format.html, title=title)
    for verdict in ("pass", "fail", "invalid", "skipped"):
        table = table.replace(f"<td>{verdict}</td>", f'<td class="{verdict}">{verdict}</td>')
    return table


def _cost(cost: dict[str, Any]) -> str:
    parts = [render(flat_rows(cost), Format.html, title="Cost of the run")]
    for key, value in cost.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            parts.append(render(value, Format.html, title=key))
    return "".join(parts)


def report_html(doc: dict[str, Any]) -> str:
    suite = doc["suite"]["name"]
    comparison = doc.get("comparison")
    verdict = doc["verdict"]
    regressed = bool(comparison and comparison.get("regressed"))
    headline = "regression" if regressed and verdict == "pass" else HEADLINE.get(verdict, verdict)
    release = f" · release {html.escape(doc['release'])}" if doc.get("release") else ""
    body = [
        f'<h1>perfenv · {html.escape(suite)}: <span class="{verdict}">{headline}</span></h1>',
        f"<p>Target {html.escape(doc['target']['url'])}{release} · run {html.escape(doc['run_id'])}"
        f" · {html.escape(doc['started_at'])} → {html.escape(doc['finished_at'])}"
        f" · exit code {doc['exit_code']}</p>",
        *(
            [f"<p><strong>{html.escape(doc['aborted']['reason'])}</strong></p>"]
            if doc.get("aborted")
            else []
        ),
        _verdict_table(verdict_rows(doc, icons=False), "Scenarios"),
    ]
    budgets = budget_rows(doc, icons=False)
    if budgets:
        body.append(_verdict_table(budgets, "Budgets (steady state)"))
    notes = analysis_lines(doc) + server_report.gap_notes(doc)
    if notes:
        items = "".join(f"<li>{html.escape(n.replace('**', ''))}</li>" for n in notes)
        body.append(f"<ul>{items}</ul>")
    if comparison:
        rows = comparison_rows(comparison)
        title = f"Comparison with baseline {comparison['baseline']}"
        none = f"<p>{html.escape(title)}: none</p>"  # the label is a path or a release name
        body.append(render(rows, Format.html, title=title) if rows else none)
        note = environment_note(comparison)
        if note:
            body.append(f"<p>{html.escape(note)}</p>")
    if doc.get("server"):
        section = doc["server"]
        title = f"Server side ({section['source']}, {section['period_s']} s periods)"
        body.append(render(server_report.totals_rows(doc), Format.html, title=title))
    if doc.get("capacity"):
        items = "".join(f"<li>{html.escape(line)}</li>" for line in capacity_lines(doc["capacity"]))
        body.append(_section("Capacity", f"<ul>{items}</ul>"))
    if doc.get("history"):
        body.append(history_html(doc["history"], salt=doc["run_id"]))
    if doc.get("cost"):
        body.append(_section("Cost", _cost(doc["cost"])))
    for i, scenario in enumerate(doc["scenarios"]):
        if not any(run.get("windows") for run in scenario["runs"]):
            continue
        svg = scenario_figure(
            scenario,
            salt=f"{doc['run_id']}-{i}",
            server=server_report.runs_of(doc, scenario["name"]),
            period_s=(doc.get("server") or {}).get("period_s", 1),
        )
        body.append(
            _section(
                f"{scenario['name']} ({scenario['kind']})",
                f"<figure>{svg}<figcaption>{html.escape(scenario['reason'] or '')}"
                "</figcaption></figure>",
            )
        )
    versions = ", ".join(f"{k} {v}" for k, v in doc["versions"].items())
    body.append(
        f"<footer><small>{html.escape(versions)} · {html.escape(doc['host']['hostname'])}"
        "</small></footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>perfenv {html.escape(suite)}: {headline}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def write_html(doc: dict[str, Any], path: Path) -> Path:
    path.write_text(report_html(doc))
    return path
