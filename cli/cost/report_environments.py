"""The cost report's environment rows: budget, spend, forecast, notifications, flags."""

from __future__ import annotations

from decimal import Decimal

from perfenv.cli.cost.budgets import BudgetInfo
from perfenv.cli.cost.money import Gap, cents, dec, plain
from perfenv.infra.config import CostConfig, EnvironmentConfig

ENV_COLUMNS = (
    "environment",
    "kind",
    "team",
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
# The cost stack's notification rule (infra/cost_guardrails.py, not imported: it needs
# pulumi_aws): ACTUAL at every threshold plus 80 and 100, FORECASTED at 100.
ALWAYS_NOTIFY_ACTUAL = (80.0, 100.0)
FORECAST_NOTIFY = 100.0


def _threshold_text(env: EnvironmentConfig) -> str:
    actual = sorted(set(env.budgets.thresholds) | set(ALWAYS_NOTIFY_ACTUAL))
    texts = [f"{plain(dec(t))}% actual" for t in actual]
    return ", ".join([*texts, f"{plain(dec(FORECAST_NOTIFY))}% forecasted"])


def notification_cells(
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


def budget_source(budget: BudgetInfo | None, gap: Gap | None) -> str:
    if budget is not None:
        return f"budget {budget.name}"
    return f"stack file ({gap.reason if gap else 'no budget in the account'})"


def used_percent(actual: Decimal | Gap, budget: Decimal) -> Decimal | Gap:
    if isinstance(actual, Gap):
        return actual
    return (actual * 100 / budget).quantize(Decimal("0.1"))


def budget_flags(
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
