"""The cost report in every `--format`: the sections through `cli.render`, plus an HTML page.

The HTML page is self-contained: the same tables as the other formats, the month's burn-down
per environment and (with `--months`) the trend, drawn by `cli.cost.charts` as inline SVG.
With `--since`, CSV is the run ledger alone: one header and one row per run, for a spreadsheet.
"""

from __future__ import annotations

import html
from typing import Any

from perfenv.cli.cost.burndown import BURNDOWN_COLUMNS, burndown_table
from perfenv.cli.cost.chargeback import CHARGEBACK_KEYS, chargeback_columns
from perfenv.cli.cost.charts import burndown_figure, svg, trend_figure
from perfenv.cli.cost.money import Gap
from perfenv.cli.cost.report import ENV_COLUMNS, RUN_COLUMNS, TOTAL, CostReport
from perfenv.cli.render import Format, render

Section = tuple[str, list[dict[str, Any]], list[str]]


def _runs_title(report: CostReport) -> str:
    span = report.month if report.since is None else f"{report.since} to {report.month}"
    return f"Perf runs, {span}: estimate against billed"


def _sections(report: CostReport) -> list[Section]:
    sections: list[Section] = [
        (f"Environments, {report.month}", report.environments, list(ENV_COLUMNS)),
        (f"Burn-down, {report.month}", burndown_table(report.burndown), list(BURNDOWN_COLUMNS)),
        (
            _runs_title(report),
            report.runs or [{"stack": "no perf runs recorded"}],
            list(RUN_COLUMNS),
        ),
    ]
    for by in CHARGEBACK_KEYS:
        rows = report.chargeback.get(by) or [{"month": "no perf runs recorded"}]
        sections.append((f"Chargeback of perf runs by {by}", rows, chargeback_columns(by)))
    if report.trend:
        cols = ["environment", "budget_usd", *report.months]
        sections.append((f"Trend, {report.months[0]} to {report.months[-1]}", report.trend, cols))
    return sections


def ledger(report: CostReport) -> list[dict[str, Any]]:
    """The run rows without their TOTAL: one row per run."""
    return [r for r in report.runs if r["stack"] != TOTAL]


def report_text(report: CostReport, fmt: Format) -> str:
    if fmt is Format.json:
        return render(report.to_dict(), fmt)
    if fmt is Format.html:
        return html_page(report)
    if fmt is Format.csv and report.since is not None:
        return render(ledger(report), fmt, columns=list(RUN_COLUMNS))
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


def _trend_rows(report: CostReport) -> list[dict[str, Any]]:
    return [r for r in report.trend if r["environment"] != TOTAL]


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
caption{font-weight:600;text-align:left;padding:.5rem 0}
.flagged{color:#c0392b;font-weight:600}
svg{max-width:100%;height:auto}
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
    trend = ""
    if report.trend:
        chart = svg(trend_figure(_trend_rows(report), report.months))
        trend = f"<h2>Spend against budget by month</h2>{chart}"
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
    gaps = sum(1 for r in report.environments for v in r.values() if isinstance(v, Gap))
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<p>Target {html.escape(report.target)}; "
        f"generated {report.generated_at:%Y-%m-%d %H:%M} UTC; "
        f"amounts in {report.currency}; {gaps} cell(s) without data say why.</p>{flagged}"
        f"<h2>Budget burn-down, {html.escape(report.month)}</h2>"
        f"{svg(burndown_figure(report.burndown, report.month))}{trend}{tables}"
        f"<h2>Notes</h2><ul>{notes}</ul></body></html>\n"
    )
