"""AWS Budgets (the cost stack): one budget with its notifications and subscribers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from perfenv.cli.targets.local.realize.base import (
    ACCOUNT,
    Ctx,
    Inputs,
    Outputs,
    as_list,
    compact,
    ignore_gone,
    physical_name,
    register,
    with_outputs,
)


def _notifications(inputs: Inputs) -> list[dict[str, Any]]:
    out = []
    for note in as_list(inputs.get("notifications")):
        subscribers = [
            {"SubscriptionType": "EMAIL", "Address": a}
            for a in as_list(note.get("subscriberEmailAddresses"))
        ] + [
            {"SubscriptionType": "SNS", "Address": a}
            for a in as_list(note.get("subscriberSnsTopicArns"))
        ]
        out.append(
            {
                "Notification": compact(
                    NotificationType=note.get("notificationType"),
                    ComparisonOperator=note.get("comparisonOperator"),
                    Threshold=float(note.get("threshold", 0)),
                    ThresholdType=note.get("thresholdType"),
                ),
                "Subscribers": subscribers,
            }
        )
    return out


def create_budget(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    name = physical_name(ctx, inputs, limit=100)
    account = str(inputs.get("accountId") or ACCOUNT)
    filters = {f["name"]: as_list(f.get("values")) for f in as_list(inputs.get("costFilters"))}
    amount = inputs.get("limitAmount")
    budget = compact(
        BudgetName=name,
        BudgetType=inputs.get("budgetType") or "COST",
        TimeUnit=inputs.get("timeUnit") or "MONTHLY",
        BudgetLimit={"Amount": str(amount), "Unit": inputs.get("limitUnit") or "USD"}
        if amount is not None
        else None,
        CostFilters=filters,
    )
    ctx.client("budgets").create_budget(
        **compact(
            AccountId=account, Budget=budget, NotificationsWithSubscribers=_notifications(inputs)
        )
    )
    id_ = f"{account}:{name}"
    arn = f"arn:aws:budgets::{account}:budget/{name}"
    return id_, with_outputs(inputs, ctx, id=id_, name=name, arn=arn, accountId=account)


def delete_budget(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    account, name = id_.split(":", 1)
    ignore_gone(lambda: ctx.client("budgets").delete_budget(AccountId=account, BudgetName=name))


# AWS Budgets resources carry tags on AWS; moto's budgets keeps none, so none are sent.
register(create_budget, delete_budget, "aws:budgets/budget:Budget", taggable=False)
