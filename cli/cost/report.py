"""The finance report: one row per environment, one per perf run of the month, totals, trend.

Data gathering only; rendering is `cli.render` (and `cli.cost.html` for the page with a chart).
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

from cli.cost import alarms as alarm_facts
from cli.cost.aws_clients import Asker, Clients
from cli.cost.budgets import BudgetInfo, fetch_budgets
from cli.cost.money import CURRENCY, Gap, cents, dec, plain
from cli.cost.spend import (
    Spend,
    fetch_spend,
    forecast,
    label,
    month_start,
    months_back,
    next_month,
)
from cli.cost.stacks import all_stack_files
from cli.errors import BadInput
from cli.store import Store, open_store
from infra.config import STACKS_DIR, CostConfig, EnvironmentConfig

ENV_COLUMNS = (
    "environment",
    "kind",
    "region",
    "budget_usd",
    "budget_source",
    "actual_usd",
    "forecast_usd",
    "forecast_method",
    "used_percent",
    "thresholds",
    "subscribers",
    "notifications_source",
    "billing_alarm",
    "alarms",
    "alarm_transitions",
    "flag",
)
RUN_COLUMNS = (
    "stack",
    "release",
    "target",
    "started_at",
    "ended_at",
    "hours_up",
    "estimated_usd",
    "actual_usd",
)
TOTAL = "TOTAL"
# The cost stack's notification rule (infra/cost_guardrails.py, not imported: it needs
# pulumi_aws): ACTUAL at every threshold plus 80 and 100, FORECASTED at 100.
ALWAYS_NOTIFY_ACTUAL = (80.0, 100.0)
FORECAST_NOTIFY = 100.0


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


def _threshold_text(env: EnvironmentConfig) -> str:
    actual = sorted(set(env.budgets.thresholds) | set(ALWAYS_NOTIFY_ACTUAL))
    texts = [f"{plain(dec(t))}% actual" for t in actual]
    return ", ".join([*texts, f"{plain(dec(FORECAST_NOTIFY))}% forecasted"])


def _notification_cells(
    env: EnvironmentConfig,
    cost: CostConfig | None,
    budget: BudgetInfo | None,
    budgets_gap: Gap | None,
) -> tuple[str, str, str]:
    """(thresholds, subscribers, where they came from)."""
    declared = set(env.budgets.subscribers) | set(cost.subscribers if cost else ())
    declared_subs = ", ".join(sorted(declared)) or "none"
    if budget is None:
        why = budgets_gap.reason if budgets_gap else "no budget for it in the account"
        return _threshold_text(env), declared_subs, f"stack file ({why})"
    notes = budget.notifications
    if isinstance(notes, Gap):
        return _threshold_text(env), declared_subs, f"stack file ({notes.reason})"
    thresholds = (
        ", ".join(n.text() for n in sorted(notes, key=lambda n: (n.kind, n.threshold))) or "none"
    )
    if budget.subscribers_gap is not None:
        return (
            thresholds,
            declared_subs,
            f"budget API; subscribers from stack file ({budget.subscribers_gap.reason})",
        )
    subs = sorted({s for n in notes for s in (n.subscribers or ())})
    return thresholds, ", ".join(subs) or "none", "budget API"


def _budget_source(budget: BudgetInfo | None, gap: Gap | None) -> str:
    if budget is not None:
        return f"budget {budget.name}"
    return f"stack file ({gap.reason if gap else 'no budget in the account'})"


def _percent(actual: Decimal | Gap, budget: Decimal) -> Decimal | Gap:
    if isinstance(actual, Gap):
        return actual
    return (actual * 100 / budget).quantize(Decimal("0.1"))


def _flags(
    env: EnvironmentConfig,
    budget_usd: Decimal,
    actual: Decimal | Gap,
    projected: Decimal | Gap,
    budget: BudgetInfo | None,
) -> list[str]:
    flags: list[str] = []
    if isinstance(actual, Decimal) and actual > budget_usd:
        flags.append("OVER BUDGET")
    elif isinstance(projected, Decimal) and projected > budget_usd:
        flags.append("FORECAST OVER BUDGET")
    if isinstance(actual, Decimal):
        crossed = [t for t in env.budgets.thresholds if actual * 100 >= dec(t) * budget_usd]
        if crossed:
            flags.append(f"crossed {plain(dec(max(crossed)))}%")
    declared = cents(dec(env.budgets.monthly_usd))
    if budget is not None and cents(budget.limit) != declared:
        flags.append(f"budget limit differs from stack file ({declared})")
    return flags


def _sum(values: list[Decimal | Gap]) -> tuple[Decimal, int]:
    known = [v for v in values if isinstance(v, Decimal)]
    return sum(known, Decimal(0)), len(values) - len(known)


def _parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_records(store: Store) -> dict[str, dict[str, Any]]:
    """stack -> what the state store knows of the run: cost record, else the live manifest."""
    keys = store.keys("costs/") + store.keys("runs/")
    with ThreadPoolExecutor(8) as pool:
        docs = list(pool.map(store.get, keys))
    runs: dict[str, dict[str, Any]] = {}
    for key, doc in zip(keys, docs, strict=True):
        if not doc or "stack" not in doc:
            continue
        entry = runs.setdefault(str(doc["stack"]), {})
        if key.startswith("costs/"):
            entry["cost"] = doc
        else:
            entry["manifest"] = doc
    return runs


def _run_rows(
    runs: dict[str, dict[str, Any]], spend: Spend, first: date, now: datetime
) -> list[dict[str, Any]]:
    start = datetime.combine(first, datetime.min.time(), UTC)
    end = datetime.combine(next_month(first), datetime.min.time(), UTC)
    month = label(first)
    rows: list[dict[str, Any]] = []
    for stack, entry in sorted(runs.items()):
        cost, manifest = entry.get("cost", {}), entry.get("manifest", {})
        if not cost and not manifest.get("expires_at"):
            continue  # a long-lived stack brought up with `perfenv up --stack`: not a run
        started = _parse_time(cost.get("started_at")) or _parse_time(manifest.get("created_at"))
        ended = _parse_time(cost.get("ended_at"))
        if started is None or started >= end or (ended is not None and ended < start):
            continue
        hours = Decimal(int(((ended or now) - started).total_seconds())) / 3600
        estimated: Decimal | Gap = (
            dec(cost["estimated"]) if "estimated" in cost else Gap("no cost record for this run")
        )
        rows.append(
            {
                "stack": stack,
                "release": cost.get("release") or manifest.get("release", ""),
                "target": cost.get("target") or manifest.get("target", ""),
                "started_at": _iso(started),
                "ended_at": _iso(ended) if ended is not None else "still up",
                "hours_up": hours.quantize(Decimal("0.01")),
                "estimated_usd": estimated,
                "actual_usd": spend.stack(month, stack),
            }
        )
    return rows


def build_report(
    clients: Clients,
    *,
    month: str | None = None,
    months: int = 1,
    now: datetime | None = None,
    stacks_dir: Path = STACKS_DIR,
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
        thresholds, subscribers, source = _notification_cells(env, cost, budget, budgets_gap)
        flags = _flags(env, budget_usd, actual, projected.amount, budget)
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
                "budget_source": _budget_source(budget, budgets_gap),
                "actual_usd": actual,
                "forecast_usd": projected.amount,
                "forecast_method": projected.method,
                "used_percent": _percent(actual, budget_usd),
                "thresholds": thresholds,
                "subscribers": subscribers,
                "notifications_source": source,
                "billing_alarm": billing,
                "alarms": alarm_facts.alarms_cell(facts, env.name, env.region),
                "alarm_transitions": alarm_facts.transitions_cell(facts, env.name, env.region),
                "flag": "; ".join(flags),
            }
        )
    report.environments.append(_env_total(limits, actuals, projections, billing))
    report.runs = _run_rows(runs, spend, first, now)
    if report.runs:
        report.runs.append(_run_total(report.runs))
    if months > 1:
        report.trend = _trend(envs, budget_map, spend, trend_months)
    report.notes = _notes(asker, cost)
    report.requests = dict(asker.requests)
    return report


def _env_total(
    limits: list[Decimal],
    actuals: list[Decimal | Gap],
    projections: list[Decimal | Gap],
    billing: str | Gap,
) -> dict[str, Any]:
    actual, missing = _sum(actuals)
    projected, missing_f = _sum(projections)
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
        "used_percent": _percent(actual, budget) if budget and missing < len(actuals) else "",
        "billing_alarm": billing,
        "flag": "; ".join(notes),
    }


def _run_total(rows: list[dict[str, Any]]) -> dict[str, Any]:
    estimated, missing_e = _sum([r["estimated_usd"] for r in rows])
    actual, missing_a = _sum([r["actual_usd"] for r in rows])
    return {
        "stack": TOTAL,
        "release": f"{len(rows)} run(s)",
        "hours_up": sum((r["hours_up"] for r in rows), Decimal(0)),
        "estimated_usd": estimated,
        "actual_usd": actual if missing_a < len(rows) else Gap("no run has data"),
        "ended_at": (f"{missing_a} run(s) without actual cost" if missing_a else "")
        + (f"; {missing_e} without estimate" if missing_e else ""),
    }


def _trend(
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
        amount, missing = _sum(values)
        total[label(m)] = amount if missing < len(values) else values[0]
    rows.append(total)
    return rows


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
