"""The cost report in every `--format`: the sections through `cli.render`, plus an HTML page.

The HTML page is self-contained: the same tables as the other formats and a chart of spend
against budget per environment over the report's months (matplotlib, inline SVG).
"""

from __future__ import annotations

import html
import io
from decimal import Decimal
from typing import Any

from perfenv.cli.cost.money import Gap
from perfenv.cli.cost.report import ENV_COLUMNS, RUN_COLUMNS, TOTAL, CostReport
from perfenv.cli.render import Format, render

SMALL_MULTIPLES_MAX = 12


def _sections(report: CostReport) -> list[tuple[str, list[dict[str, Any]], list[str]]]:
    sections = [
        (f"Environments, {report.month}", report.environments, list(ENV_COLUMNS)),
        (
            f"Perf runs, {report.month}",
            report.runs or [{"stack": "no perf runs recorded this month"}],
            list(RUN_COLUMNS),
        ),
    ]
    if report.trend:
        cols = ["environment", "budget_usd", *report.months]
        sections.append((f"Trend, {report.months[0]} to {report.months[-1]}", report.trend, cols))
    return sections


def report_text(report: CostReport, fmt: Format) -> str:
    if fmt is Format.json:
        return render(report.to_dict(), fmt)
    if fmt is Format.html:
        return html_page(report)
    parts: list[str] = []
    if fmt is Format.md:
        parts.append(f"## perfenv cost report {report.month} ({report.currency})\n")
    elif fmt is Format.table:
        parts.append(f"perfenv cost report {report.month} ({report.currency}, {report.target})\n")
    for title, rows, cols in _sections(report):
        # CSV: one header row per section, a blank line between; a spreadsheet opens it as is.
        parts.append(render(rows, fmt, columns=cols, title=None if fmt is Format.csv else title))
    if fmt is not Format.csv:
        notes = "\n".join(f"- {n}" for n in report.notes)
        parts.append(f"Notes:\n{notes}\n" if fmt is Format.table else f"**Notes**\n\n{notes}\n")
    sep = "\r\n" if fmt is Format.csv else "\n"
    return sep.join(parts)


def _amount(value: Any) -> float | None:
    """For plotting only: a Decimal as a float; a gap as None (drawn as missing)."""
    return float(value) if isinstance(value, Decimal) else None


def chart_svg(report: CostReport) -> str:
    """Spend against budget per environment, month by month, as inline SVG."""
    from matplotlib.figure import Figure

    rows = [r for r in (report.trend or _single_month(report)) if r["environment"] != TOTAL]
    months = report.months
    if not rows:
        return ""
    if len(rows) <= SMALL_MULTIPLES_MAX:
        cols = min(3, len(rows))
        lines = -(-len(rows) // cols)
        fig = Figure(figsize=(3.6 * cols, 2.4 * lines), layout="constrained")
        axes = fig.subplots(lines, cols, squeeze=False)
        for ax, row in zip(axes.flat, rows, strict=False):
            budget = float(row["budget_usd"])
            values = [_amount(row.get(m)) for m in months]
            xs = range(len(months))
            colors = ["#c0392b" if (v or 0) > budget else "#2e86c1" for v in values]
            ax.bar(xs, [v or 0 for v in values], color=colors)
            for x, v in zip(xs, values, strict=True):
                if v is None:
                    ax.text(x, 0, "n/a", ha="center", va="bottom", fontsize=7, color="#888")
            ax.axhline(budget, color="#333", linestyle="--", linewidth=1, label="budget")
            ax.set_title(row["environment"], fontsize=9)
            ax.set_xticks(list(xs), [m[2:] for m in months], fontsize=6, rotation=45)
            ax.tick_params(axis="y", labelsize=7)
            ax.set_ylabel(report.currency, fontsize=7)
        for ax in list(axes.flat)[len(rows) :]:
            ax.set_visible(False)
    else:  # many environments: percent of budget as a heat map, one line each
        fig = Figure(figsize=(1 + 0.5 * len(months), 0.9 + 0.22 * len(rows)), layout="constrained")
        ax = fig.subplots()
        grid = [
            [
                (v / float(r["budget_usd"]) * 100)
                if (v := _amount(r.get(m))) is not None
                else float("nan")
                for m in months
            ]
            for r in rows
        ]
        image = ax.imshow(grid, aspect="auto", cmap="RdYlGn_r", vmin=0, vmax=150)
        ax.set_yticks(range(len(rows)), [r["environment"] for r in rows], fontsize=6)
        ax.set_xticks(range(len(months)), [m[2:] for m in months], fontsize=6, rotation=45)
        fig.colorbar(image, ax=ax, label="% of monthly budget (blank: no data)")
    fig.suptitle(
        "Spend per month against the monthly budget (dashed); red: over budget"
        if len(rows) <= SMALL_MULTIPLES_MAX
        else "Spend per month as a percentage of the monthly budget",
        fontsize=9,
    )
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    svg = buf.getvalue()
    return svg[svg.index("<svg") :]


def _single_month(report: CostReport) -> list[dict[str, Any]]:
    return [
        {
            "environment": r["environment"],
            "budget_usd": r["budget_usd"],
            report.month: r["actual_usd"],
        }
        for r in report.environments
    ]


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
caption{font-weight:600;text-align:left;padding:.5rem 0}
.flagged{color:#c0392b;font-weight:600}
"""


def html_page(report: CostReport) -> str:
    title = f"perfenv cost report {report.month}"
    names = html.escape(", ".join(report.flagged))
    flagged = (
        f'<p class="flagged">Over budget or forecast to exceed it: {names}</p>'
        if report.flagged
        else "<p>No environment over budget or forecast to exceed it.</p>"
    )
    tables = "".join(
        render(rows, Format.html, columns=cols, title=t) for t, rows, cols in _sections(report)
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
    gaps = sum(1 for r in report.environments for v in r.values() if isinstance(v, Gap))
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<p>Target {html.escape(report.target)}; "
        f"generated {report.generated_at:%Y-%m-%d %H:%M} UTC; "
        f"amounts in {report.currency}; {gaps} cell(s) without data say why.</p>{flagged}"
        f"<h2>Spend against budget</h2>{chart_svg(report)}{tables}"
        f"<h2>Notes</h2><ul>{notes}</ul></body></html>\n"
    )
