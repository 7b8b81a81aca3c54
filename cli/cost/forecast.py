"""The month's forecast per environment: Cost Explorer's where offered, else perfenv's own
linear forecast (the month-to-date run-rate carried to the month's end), labelled as such."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from perfenv.cli.cost.aws_clients import Asker, Clients
from perfenv.cli.cost.money import Gap, cents
from perfenv.cli.cost.spend import ENV_TAG, next_month

CE_METHOD = "Cost Explorer forecast"


@dataclass(frozen=True)
class Forecast:
    amount: Decimal | Gap
    method: str


def linear_method(elapsed: int, days: int) -> str:
    return f"perfenv linear forecast (run-rate of {elapsed} of {days} days)"


def forecast(
    clients: Clients,
    asker: Asker,
    env: str,
    actual: Decimal | Gap,
    first: date,
    today: date,
    complete: Decimal | None = None,
) -> Forecast:
    """The month's forecast: Cost Explorer's where offered, else a linear run-rate one.

    `complete` is the spend of the whole days before `today` where Cost Explorer gave them by
    day: the run-rate then leaves out today's partial spend (it would inflate the rate).
    """
    end = next_month(first)
    if today >= end:
        return Forecast(actual, "month complete")
    if isinstance(actual, Gap):
        return Forecast(Gap("no month-to-date spend to project from"), "")
    ce = clients.client("ce")
    answer = asker.ask(
        "Cost Explorer forecast",
        lambda: ce.get_cost_forecast(
            TimePeriod={"Start": today.isoformat(), "End": end.isoformat()},
            Metric="UNBLENDED_COST",
            Granularity="MONTHLY",
            Filter={"Tags": {"Key": ENV_TAG, "Values": [env], "MatchOptions": ["EQUALS"]}},
        ),
    )
    if not isinstance(answer, Gap):
        rest = Decimal(str(answer.get("Total", {}).get("Amount", "0")))
        return Forecast(cents(actual + rest), CE_METHOD)
    days = calendar.monthrange(first.year, first.month)[1]
    elapsed = (today - first).days  # whole days with data; today's is still coming in
    if elapsed <= 0:
        return Forecast(Gap(f"too early in the month for a run-rate ({answer.reason})"), "")
    rate = (actual if complete is None else complete) / elapsed
    return Forecast(max(actual, cents(rate * days)), linear_method(elapsed, days))
