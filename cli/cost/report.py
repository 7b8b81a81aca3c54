"""The finance report: one row per environment, one per perf run of the month, totals, trend.

Data gathering only; rendering is `cli.render` (and `cli.cost.output` for the page with a chart).
Each API is asked through one `Asker`, so an API that gives nothing costs one request and the
report carries on with the gap written in its cells, never a zero.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from perfenv.cli.cost import alarms as alarm_facts
from perfenv.cli.cost.aws_clients import Asker, Clients
from perfenv.cli.cost.budgets import fetch_budgets
from perfenv.cli.cost.money import CURRENCY, Gap, cents, dec, plain
from perfenv.cli.cost.report_environments import (
    ALWAYS_NOTIFY_ACTUAL,
    ENV_COLUMNS,
    FORECAST_NOTIFY,
    budget_flags,
    budget_source,
    notification_cells,
    used_percent,
)
from perfenv.cli.cost.report_runs import RUN_COLUMNS, run_records, run_rows
from perfenv.cli.cost.report_totals import TOTAL, environment_total, run_total, trend_rows
from perfenv.cli.cost.spend import (
    fetch_spend,
    forecast,
    label,
    month_start,
    months_back,
    next_month,
)
from perfenv.cli.cost.stacks import all_stack_files
from perfenv.cli.errors import BadInput
from perfenv.cli.state.store import Store, open_store
from perfenv.infra.config import CostConfig

__all__ = [
    "ALWAYS_NOTIFY_ACTUAL",
    "ENV_COLUMNS",
    "FORECAST_NOTIFY",
    "RUN_COLUMNS",
    "TOTAL",
    "CostReport",
    "build_report",
    "parse_month",
    "run_records",
]


@dataclass
class CostReport:
    month: str
    months: list[str]
    generated_at: datetime
    target: str
    currency: str = CURRENCY
    environments: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    trend: list[dict[str, Any]] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "months": self.months,
            "generated_at": self.generated_at,
            "target": self.target,
            "currency": self.currency,
            "environments": self.environments,
            "runs": self.runs,
            "trend": self.trend,
            "flagged": self.flagged,
            "notes": self.notes,
            "requests": self.requests,
        }


def parse_month(text: str | None, today: date) -> date:
    if text is None:
        return month_start(today)
    try:
        first = datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise BadInput(f"--month: expected YYYY-MM, got {text!r}") from None
    if first > today:
        raise BadInput(f"--month: {text} has not started yet")
    return first


def build_report(
    clients: Clients,
    *,
    month: str | None = None,
    months: int = 1,
    now: datetime | None = None,
    stacks_dir: Path | None = None,
    store: Store | None = None,
) -> CostReport:
    if months < 1 or months > 36:
        raise BadInput(f"--months: expected 1 to 36, got {months}")
    now = now or datetime.now(UTC)
    today = now.date()
    first = parse_month(month, today)
    trend_months = months_back(first, months)
    end = min(next_month(first), date.fromordinal(today.toordinal() + 1))
    files = all_stack_files(stacks_dir)
    envs = [f.environment for f in files if f.environment is not None]
    cost: CostConfig | None = next((f.cost for f in files if f.cost is not None), None)
    asker = Asker(what="the emulator" if clients.target == "local" else "this account")

    with ThreadPoolExecutor(3) as pool:
        spend_job = pool.submit(fetch_spend, clients, asker, trend_months[0], end)
        budgets_job = pool.submit(fetch_budgets, clients, asker, [e.name for e in envs])
        alarms_job = pool.submit(
            alarm_facts.fetch_alarms,
            clients,
            asker,
            {e.region for e in envs},
            now,
            [e.name for e in envs],
        )
        runs = run_records(store or open_store())
        spend, budgets, facts = spend_job.result(), budgets_job.result(), alarms_job.result()

    report = CostReport(
        month=label(first),
        months=[label(m) for m in trend_months],
        generated_at=now,
        target=clients.target,
    )
    billing = alarm_facts.billing_cell(facts)
    budgets_gap = budgets if isinstance(budgets, Gap) else None
    budget_map = {} if isinstance(budgets, Gap) else budgets
    actuals: list[Decimal | Gap] = []
    projections: list[Decimal | Gap] = []
    limits: list[Decimal] = []
    for env in envs:
        budget = budget_map.get(env.name)
        budget_usd = cents(budget.limit) if budget else cents(dec(env.budgets.monthly_usd))
        actual = spend.environment(label(first), env.name)
        projected = forecast(clients, asker, env.name, actual, first, today)
        thresholds, subscribers, source = notification_cells(env, cost, budget, budgets_gap)
        flags = budget_flags(env, budget_usd, actual, projected.amount, budget)
        if flags and flags[0] in ("OVER BUDGET", "FORECAST OVER BUDGET"):
            report.flagged.append(env.name)
        actuals.append(actual)
        projections.append(projected.amount)
        limits.append(budget_usd)
        report.environments.append(
            {
                "environment": env.name,
                "kind": env.kind,
                "region": env.region,
                "budget_usd": budget_usd,
                "budget_source": budget_source(budget, budgets_gap),
                "actual_usd": actual,
                "forecast_usd": projected.amount,
                "forecast_method": projected.method,
                "used_percent": used_percent(actual, budget_usd),
                "thresholds": thresholds,
                "subscribers": subscribers,
                "notifications_source": source,
                "billing_alarm": billing,
                "alarms": alarm_facts.alarms_cell(facts, env.name, env.region),
                "alarm_transitions": alarm_facts.transitions_cell(facts, env.name, env.region),
                "flag": "; ".join(flags),
            }
        )
    report.environments.append(environment_total(limits, actuals, projections, billing))
    report.runs = run_rows(runs, spend, first, now)
    if report.runs:
        report.runs.append(run_total(report.runs))
    if months > 1:
        report.trend = trend_rows(envs, budget_map, spend, trend_months)
    report.notes = _notes(asker, cost)
    report.requests = dict(asker.requests)
    return report


def _notes(asker: Asker, cost: CostConfig | None) -> list[str]:
    notes = [f"{gap.reason}: asked once, the cells say so" for gap in asker.missing.values()]
    if cost is None:
        notes.append("no cost stack file (perfenv:cost): no billing alarm threshold declared")
    else:
        notes.append(
            f"cost stack: billing alarm at {plain(dec(cost.billing_alarm.threshold_usd))} USD, "
            f"anomaly alerts at {plain(dec(cost.anomaly.threshold_usd))} USD "
            f"({cost.anomaly.frequency.lower()}), to {', '.join(cost.subscribers)}"
        )
    ce = asker.requests.get("Cost Explorer", 0) + asker.requests.get("Cost Explorer forecast", 0)
    notes.append(f"Cost Explorer requests made by this report: {ce}")
    return notes
