"""The finance report: environments with their burn-down, each perf run's estimate against what
was billed, chargeback per owner and team, and the trend.

Data gathering only; rendering is `cli.render` (and `cli.cost.output` for the page with charts).
Each API is asked through one `Asker`, so an API that gives nothing costs one request and the
report carries on with the gap written in its cells, never a zero.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from perfenv.cli.cost import alarms as alarm_facts
from perfenv.cli.cost.aws_clients import Asker, Clients
from perfenv.cli.cost.budgets import fetch_budgets
from perfenv.cli.cost.burndown import burndown_row
from perfenv.cli.cost.chargeback import CHARGEBACK_KEYS, chargeback
from perfenv.cli.cost.forecast import forecast
from perfenv.cli.cost.money import CURRENCY, Gap, cents, dec, plain
from perfenv.cli.cost.report_environments import (
    ENV_COLUMNS,
    budget_flags,
    budget_source,
    notification_cells,
    used_percent,
)
from perfenv.cli.cost.report_runs import RUN_COLUMNS, run_records, run_rows
from perfenv.cli.cost.report_totals import TOTAL, environment_total, run_total, trend_rows
from perfenv.cli.cost.spend import (
    BILLING_LAG,
    fetch_spend,
    label,
    month_start,
    months_back,
    next_month,
)
from perfenv.cli.cost.stacks import all_stack_files
from perfenv.cli.errors import BadInput
from perfenv.cli.state.store import Store, open_store
from perfenv.infra.config import CostConfig
from perfenv.infra.tags import team_of

__all__ = ["ENV_COLUMNS", "RUN_COLUMNS", "TOTAL", "CostReport", "build_report", "parse_month"]


@dataclass
class CostReport:
    month: str
    months: list[str]
    since: str | None
    generated_at: datetime
    target: str
    currency: str = CURRENCY
    environments: list[dict[str, Any]] = field(default_factory=list)
    burndown: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    chargeback: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    trend: list[dict[str, Any]] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)

    @property
    def runs_from(self) -> str:
        return self.since or self.month

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "months": self.months,
            "runs_from": self.runs_from,
            "generated_at": self.generated_at,
            "target": self.target,
            "currency": self.currency,
            "billing_lag": BILLING_LAG,
            "environments": self.environments,
            "burndown": self.burndown,
            "runs": self.runs,
            "chargeback": self.chargeback,
            "trend": self.trend,
            "flagged": self.flagged,
            "notes": self.notes,
            "requests": self.requests,
        }


def parse_month(text: str | None, today: date, option: str = "--month") -> date:
    if text is None:
        return month_start(today)
    try:
        first = datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise BadInput(f"{option}: expected YYYY-MM, got {text!r}") from None
    if first > today:
        raise BadInput(f"{option}: {text} has not started yet")
    return first


def build_report(
    clients: Clients,
    *,
    month: str | None = None,
    months: int = 1,
    since: str | None = None,
    now: datetime | None = None,
    stacks_dir: Path | None = None,
    store: Store | None = None,
) -> CostReport:
    """The report for `month` (default: this one), its runs from `since` (default: `month`)."""
    if months < 1 or months > 36:
        raise BadInput(f"--months: expected 1 to 36, got {months}")
    now = now or datetime.now(UTC)
    today = now.date()
    first = parse_month(month, today)
    runs_from = parse_month(since, today, "--since") if since else first
    if runs_from > first:
        raise BadInput(f"--since: {since} is after the report month {label(first)}")
    trend_months = months_back(first, months)
    end = min(next_month(first), today + timedelta(days=1))
    files = all_stack_files(stacks_dir)
    env_files = [f for f in files if f.environment is not None]
    envs = [f.environment for f in env_files if f.environment is not None]
    cost: CostConfig | None = next((f.cost for f in files if f.cost is not None), None)
    asker = Asker(what="the emulator" if clients.target == "local" else "this account")

    with ThreadPoolExecutor(3) as pool:
        spend_job = pool.submit(
            fetch_spend,
            clients,
            asker,
            first=first,
            end=end,
            history_from=min(trend_months[0], runs_from),
        )
        budgets_job = pool.submit(fetch_budgets, clients, asker, [e.name for e in envs])
        regions = {e.region for e in envs}
        names = [e.name for e in envs]
        alarms_job = pool.submit(alarm_facts.fetch_alarms, clients, asker, regions, now, names)
        records, skipped = run_records(store or open_store())
        spend, budgets, facts = spend_job.result(), budgets_job.result(), alarms_job.result()

    report = CostReport(
        month=label(first),
        months=[label(m) for m in trend_months],
        since=label(runs_from) if since else None,
        generated_at=now,
        target=clients.target,
    )
    budgets_gap = budgets if isinstance(budgets, Gap) else None
    budget_map = {} if isinstance(budgets, Gap) else budgets
    billing = alarm_facts.billing_cell(facts)
    for env, env_file in zip(envs, env_files, strict=True):
        budget = budget_map.get(env.name)
        budget_usd = cents(budget.limit) if budget else cents(dec(env.budgets.monthly_usd))
        actual = spend.environment(label(first), env.name)
        complete = spend.before(label(first), env.name, today)
        projected = forecast(clients, asker, env.name, actual, first, today, complete)
        flags = budget_flags(env, budget_usd, actual, projected.amount, budget)
        if flags and flags[0] in ("OVER BUDGET", "FORECAST OVER BUDGET"):
            report.flagged.append(env.name)
        thresholds, subscribers, source = notification_cells(env, cost, budget, budgets_gap)
        report.environments.append(
            {
                "environment": env.name,
                "kind": env.kind,
                "team": team_of(env_file),
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
        report.burndown.append(burndown_row(env, budget_usd, spend, first, projected))
    report.environments.append(_environment_total(report.environments, billing))
    runs = run_rows(records, spend, runs_from, next_month(first), now)
    report.chargeback = {by: chargeback(runs, by) for by in CHARGEBACK_KEYS}
    report.runs = [*runs, run_total(runs)] if runs else []
    if months > 1:
        report.trend = trend_rows(envs, budget_map, spend, trend_months)
    report.notes = skipped + _notes(asker, cost)
    report.requests = dict(asker.requests)
    return report


def _environment_total(rows: list[dict[str, Any]], billing: str | Gap) -> dict[str, Any]:
    return environment_total(
        [r["budget_usd"] for r in rows],
        [r["actual_usd"] for r in rows],
        [r["forecast_usd"] for r in rows],
        billing,
    )


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
    notes.append(
        f"{BILLING_LAG} (AWS updates billing data up to three times a day): a run is "
        "'not billed yet' until then; actual spend is what Cost Explorer tagged with the "
        "run's perfenv:stack"
    )
    ce = asker.requests.get("Cost Explorer", 0) + asker.requests.get("Cost Explorer forecast", 0)
    notes.append(f"Cost Explorer requests made by this report: {ce} (each costs 0.01 USD on AWS)")
    return notes
