"""The cost report's TOTAL rows and its month-by-month trend."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from perfenv.cli.cost.budgets import BudgetInfo
from perfenv.cli.cost.money import Gap, cents, dec
from perfenv.cli.cost.report_environments import used_percent
from perfenv.cli.cost.report_runs import difference
from perfenv.cli.cost.spend import Spend, label
from perfenv.infra.config import EnvironmentConfig

TOTAL = "TOTAL"


def known_sum(values: list[Decimal | Gap]) -> tuple[Decimal, int]:
    known = [v for v in values if isinstance(v, Decimal)]
    return sum(known, Decimal(0)), len(values) - len(known)


def environment_total(
    limits: list[Decimal],
    actuals: list[Decimal | Gap],
    projections: list[Decimal | Gap],
    billing: str | Gap,
) -> dict[str, Any]:
    actual, missing = known_sum(actuals)
    projected, missing_f = known_sum(projections)
    budget = sum(limits, Decimal(0))
    notes = []
    if missing:
        notes.append(f"actual excludes {missing} environment(s) without data")
    if missing_f:
        notes.append(f"forecast excludes {missing_f} environment(s) without one")
    if actual > budget:
        notes.insert(0, "OVER BUDGET")
    return {
        "environment": TOTAL,
        "budget_usd": budget,
        "actual_usd": actual if missing < len(actuals) else Gap("no environment has data"),
        "forecast_usd": projected if missing_f < len(projections) else Gap("no forecasts"),
        "used_percent": used_percent(actual, budget) if budget and missing < len(actuals) else "",
        "billing_alarm": billing,
        "flag": "; ".join(notes),
    }


def run_total(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Estimates of every run; actual and difference over the billed runs only."""
    estimated, missing_e = known_sum([r["estimated_usd"] for r in rows])
    billed = [r for r in rows if isinstance(r["actual_usd"], Decimal)]
    actual = sum((r["actual_usd"] for r in billed), Decimal(0))
    billed_estimate, _ = known_sum([r["estimated_usd"] for r in billed])
    diff, percent = difference(actual, billed_estimate) if billed else (Gap("none billed"),) * 2
    notes = [f"actual and difference over the {len(billed)} billed run(s)"]
    if missing_e:
        notes.append(f"{missing_e} run(s) without estimate")
    return {
        "stack": TOTAL,
        "release": f"{len(rows)} run(s)",
        "hours_up": sum((r["hours_up"] for r in rows), Decimal(0)),
        "estimated_usd": estimated,
        "actual_usd": actual if billed else Gap("no run billed yet"),
        "difference_usd": diff,
        "difference_percent": percent,
        "billing": "; ".join(notes),
    }


def trend_rows(
    envs: list[EnvironmentConfig],
    budget_map: dict[str, BudgetInfo],
    spend: Spend,
    months: list[date],
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for env in envs:
        budget = budget_map.get(env.name)
        row: dict[str, Any] = {
            "environment": env.name,
            "budget_usd": cents(budget.limit) if budget else cents(dec(env.budgets.monthly_usd)),
        }
        for m in months:
            row[label(m)] = spend.environment(label(m), env.name)
        rows.append(row)
    total: dict[str, Any] = {
        "environment": TOTAL,
        "budget_usd": sum((r["budget_usd"] for r in rows), Decimal(0)),
    }
    for m in months:
        values = [r[label(m)] for r in rows]
        amount, missing = known_sum(values)
        total[label(m)] = amount if missing < len(values) else values[0]
    rows.append(total)
    return rows
