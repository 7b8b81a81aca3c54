"""The month's burn-down per environment: cumulative actual spend by day against the budget and
its thresholds, with the forecast to the month's end. The numbers the HTML page draws are the
ones JSON and Markdown carry (the chart reads these rows, never the APIs)."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal
from typing import Any

from perfenv.cli.cost.forecast import Forecast
from perfenv.cli.cost.money import Gap, cents, dec, plain
from perfenv.cli.cost.spend import Spend, label
from perfenv.infra.config import EnvironmentConfig

BURNDOWN_COLUMNS = (
    "environment",
    "budget_usd",
    "thresholds_usd",
    "month_to_date_usd",
    "forecast_usd",
    "forecast_method",
    "month_end",
    "cumulative_usd",
)


def month_end(first: date) -> date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def threshold_lines(env: EnvironmentConfig, budget_usd: Decimal) -> list[dict[str, Any]]:
    """Each threshold of the environment's budget, as a percentage and as an amount."""
    return [
        {"percent": dec(t), "amount_usd": cents(budget_usd * dec(t) / 100)}
        for t in sorted(set(env.budgets.thresholds))
    ]


def burndown_row(
    env: EnvironmentConfig,
    budget_usd: Decimal,
    spend: Spend,
    first: date,
    projected: Forecast,
) -> dict[str, Any]:
    """One environment's burn-down: `days` holds the cumulative spend at the end of each day."""
    daily = spend.daily(label(first), env.name)
    days: list[dict[str, Any]] | Gap
    if isinstance(daily, Gap):
        days, to_date = daily, spend.environment(label(first), env.name)
    else:
        running, days = Decimal(0), []
        for day, amount in daily.items():
            running += amount
            days.append({"date": day, "spend_usd": cents(amount), "cumulative_usd": cents(running)})
        to_date = cents(running)
    return {
        "environment": env.name,
        "budget_usd": budget_usd,
        "thresholds": threshold_lines(env, budget_usd),
        "month_to_date_usd": to_date,
        "forecast_usd": projected.amount,
        "forecast_method": projected.method,
        "month_end": month_end(first).isoformat(),
        "days": days,
    }


def burndown_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The burn-down as flat rows (Markdown, table): the same numbers as JSON and the chart."""
    out = []
    for row in rows:
        days = row["days"]
        out.append(
            {
                "environment": row["environment"],
                "budget_usd": row["budget_usd"],
                "thresholds_usd": ", ".join(
                    f"{plain(t['percent'])}%: {t['amount_usd']}" for t in row["thresholds"]
                ),
                "month_to_date_usd": row["month_to_date_usd"],
                "forecast_usd": row["forecast_usd"],
                "forecast_method": row["forecast_method"],
                "month_end": row["month_end"],
                "cumulative_usd": days
                if isinstance(days, Gap)
                else "; ".join(f"{d['date'][5:]} {d['cumulative_usd']}" for d in days),
            }
        )
    return out
