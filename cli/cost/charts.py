"""The cost report's figures (matplotlib): the month's burn-down per environment and the
month-by-month trend. Each returns a Figure, so the page embeds it as SVG and a test can look
at the same figure as PNG. The figures read the report's rows, never the APIs."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from perfenv.cli.cost.money import Gap, plain

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

SMALL_MULTIPLES_MAX = 12
COLUMNS = 3
BLUE, DARK, AMBER, RED, GREEN = "#2e86c1", "#333333", "#e67e22", "#c0392b", "#27ae60"


def _amount(value: Any) -> float | None:
    """For plotting only: a Decimal as a float; a gap as None (drawn as missing)."""
    return float(value) if isinstance(value, Decimal) else None


def _grid(
    count: int, width: float, height: float, top_in: float = 0.6
) -> tuple[Figure, list[Axes]]:
    """`count` panels, three a line, with `top_in` inches above them for titles and legend.

    A fixed layout: matplotlib's constrained layout costs seconds over fifty panels.
    """
    from matplotlib.figure import Figure

    cols = min(COLUMNS, count)
    lines = -(-count // cols)
    fig_h = height * lines + top_in
    fig = Figure(figsize=(width * cols, fig_h))
    axes = list(fig.subplots(lines, cols, squeeze=False).flat)
    fig.subplots_adjust(
        left=0.2 / cols + 0.02,
        right=0.98,
        top=1 - top_in / fig_h,
        bottom=0.5 / fig_h,
        hspace=0.6 * 2.9 / height,
        wspace=0.25,
    )
    for ax in axes[count:]:
        ax.set_visible(False)
    return fig, axes[:count]


def _forecast_label(row: dict[str, Any]) -> str:
    linear = str(row["forecast_method"]).startswith("perfenv")
    return f"{row['forecast_usd']}\n({'perfenv linear' if linear else 'Cost Explorer'} forecast)"


def _burndown_axes(ax: Axes, row: dict[str, Any]) -> None:
    end_day = int(row["month_end"][8:])
    budget = float(row["budget_usd"])
    ax.axhline(budget, color=DARK, linewidth=1.4)
    for line in row["thresholds"]:
        y = float(line["amount_usd"])
        color = AMBER if y < budget else RED
        if y != budget:
            ax.axhline(y, color=color, linestyle="--", linewidth=0.9)
        ax.annotate(
            f"{plain(line['percent'])}%",
            (0, y),
            xycoords=("axes fraction", "data"),
            xytext=(2, 2),
            textcoords="offset points",
            fontsize=7,
            color=DARK if y == budget else color,
        )
    top = budget
    days = row["days"]
    if isinstance(days, Gap):
        ax.text(
            0.5,
            0.5,
            str(days),
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=7,
            color="#888",
            wrap=True,
        )
    elif days:
        # A day's cumulative spend is what was spent by its end: day d ends at x = d + 1.
        xs = [1] + [int(d["date"][8:]) + 1 for d in days]
        ys = [0.0] + [float(d["cumulative_usd"]) for d in days]
        ax.plot(xs, ys, color=BLUE, linewidth=1.8)
        ax.plot(xs[-1], ys[-1], "o", color=BLUE, markersize=3)
        top = max(top, *ys)
        projected = _amount(row["forecast_usd"])
        if projected is not None and xs[-1] <= end_day:
            color = RED if projected > budget else GREEN
            ax.plot([xs[-1], end_day + 1], [ys[-1], projected], ":", color=color, linewidth=1.8)
            ax.annotate(
                _forecast_label(row),
                (end_day + 1, projected),
                xytext=(-3, 4),
                textcoords="offset points",
                ha="right",
                va="bottom",
                fontsize=7,
                color=color,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1, "alpha": 0.85},
            )
            top = max(top, projected)
    ax.set_xlim(1, end_day + 1)
    ax.set_ylim(0, top * 1.25)
    to_date = row["month_to_date_usd"]
    spent = (
        f"{to_date} of {row['budget_usd']} USD ({float(to_date) / budget:.0%})"
        if isinstance(to_date, Decimal)
        else f"no spend data; budget {row['budget_usd']} USD"
    )
    ax.set_title(f"{row['environment']}: {spent}", fontsize=9)
    ax.tick_params(labelsize=7)
    ax.set_xlabel(f"day of {row['month_end'][:7]}", fontsize=7)
    ax.set_ylabel("USD", fontsize=7)


def _burndown_legend(fig: Figure) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=BLUE, linewidth=1.8, label="actual spend, cumulative"),
        Line2D([], [], color=DARK, linewidth=1.4, label="monthly budget"),
        Line2D([], [], color=AMBER, linestyle="--", label="budget thresholds"),
        Line2D([], [], color=GREEN, linestyle=":", linewidth=1.8, label="forecast to month end"),
        Line2D([], [], color=RED, linestyle=":", linewidth=1.8, label="forecast over budget"),
    ]
    fig.legend(
        handles=handles,
        loc="upper center",
        ncol=5,
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, 1 - 0.35 / fig.get_figheight()),
    )


def _percent(value: Any, budget: float) -> float | None:
    amount = _amount(value)
    return None if amount is None or budget <= 0 else amount / budget * 100


def _bullets(rows: list[dict[str, Any]], month: str) -> Figure:
    """Past a dozen environments, one line each (one Axes: fifty panels cost seconds): spend
    to date as a share of the budget, the thresholds as ticks, the forecast dotted beyond."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 1.2 + 0.28 * len(rows)), layout="constrained")
    ax = fig.subplots()
    for y, row in enumerate(rows):
        budget = float(row["budget_usd"])
        ax.barh(y, 100, height=0.7, color="#eeeeee")
        for line in row["thresholds"]:
            x = float(line["percent"])
            ax.plot([x, x], [y - 0.35, y + 0.35], color=AMBER if x < 100 else RED, linewidth=1)
        done = _percent(row["month_to_date_usd"], budget)
        if done is None:
            ax.text(1, y, str(row["month_to_date_usd"]), va="center", fontsize=6, color="#888")
            continue
        ax.barh(y, done, height=0.35, color=RED if done > 100 else BLUE)
        ahead = _percent(row["forecast_usd"], budget)
        if ahead is not None and ahead > done:
            ax.plot([done, ahead], [y, y], ":", color=RED if ahead > 100 else GREEN, linewidth=1.8)
    ax.axvline(100, color=DARK, linewidth=1.4)
    ax.set_yticks(range(len(rows)), [r["environment"] for r in rows], fontsize=7)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlabel("% of the monthly budget (thresholds: ticks)", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    fig.suptitle(
        f"Budget burn-down, {month}: spend to date (bar), forecast to the month's end (dotted)",
        fontsize=10,
    )
    return fig


def burndown_figure(rows: list[dict[str, Any]], month: str) -> Figure | None:
    """One panel per environment: cumulative spend, budget, thresholds, forecast."""
    if not rows:
        return None
    if len(rows) > SMALL_MULTIPLES_MAX:
        return _bullets(rows, month)
    fig, axes = _grid(len(rows), 4.2, 2.9, top_in=1.0)
    for ax, row in zip(axes, rows, strict=True):
        _burndown_axes(ax, row)
    fig.suptitle(f"Budget burn-down, {month}", fontsize=10, y=1 - 0.1 / fig.get_figheight())
    _burndown_legend(fig)
    return fig


def trend_figure(rows: list[dict[str, Any]], months: list[str]) -> Figure | None:
    """Spend per month against the monthly budget, per environment (a heat map past 12)."""
    from matplotlib.figure import Figure

    if not rows:
        return None
    if len(rows) > SMALL_MULTIPLES_MAX:
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
        fig.suptitle("Spend per month as a percentage of the monthly budget", fontsize=9)
        return fig
    fig, axes = _grid(len(rows), 3.6, 2.4)
    for ax, row in zip(axes, rows, strict=True):
        budget = float(row["budget_usd"])
        values = [_amount(row.get(m)) for m in months]
        xs = range(len(months))
        ax.bar(
            xs, [v or 0 for v in values], color=[RED if (v or 0) > budget else BLUE for v in values]
        )
        for x, v in zip(xs, values, strict=True):
            if v is None:
                ax.text(x, 0, "n/a", ha="center", va="bottom", fontsize=7, color="#888")
        ax.axhline(budget, color=DARK, linestyle="--", linewidth=1, label="budget")
        ax.set_title(row["environment"], fontsize=9)
        ax.set_xticks(list(xs), [m[2:] for m in months], fontsize=6, rotation=45)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_ylabel("USD", fontsize=7)
    fig.suptitle(
        "Spend per month against the monthly budget (dashed); red: over budget", fontsize=9
    )
    return fig


def svg(fig: Figure | None) -> str:
    if fig is None:
        return ""
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    text = buf.getvalue()
    return text[text.index("<svg") :]
