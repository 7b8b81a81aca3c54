"""Actual spend from Cost Explorer: one query for every month of the report, both tags at once.

Cost Explorer bills each request, so the report asks `get_cost_and_usage` once (plus its pages),
grouped by `perfenv:environment` and `perfenv:stack`, monthly, from the first month of the trend
to the end of the report month. Forecasts have no grouping: one request per environment, for
the current month only, and none at all once the API is found missing.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from perfenv.cli.cost.aws_clients import Asker, Clients
from perfenv.cli.cost.money import Gap, cents
from perfenv.infra.tags import tag_key

ENV_TAG = tag_key("environment")
STACK_TAG = tag_key("stack")
METRIC = "UnblendedCost"
MAX_PAGES = 20


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def months_back(first: date, n: int) -> list[date]:
    """The first days of the `n` months ending with `first`, oldest first."""
    out = [first]
    for _ in range(n - 1):
        out.insert(0, (out[0] - timedelta(days=1)).replace(day=1))
    return out


def label(first: date) -> str:
    return first.strftime("%Y-%m")


@dataclass
class MonthSpend:
    present: bool = False
    by_env: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    by_stack: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    units: set[str] = field(default_factory=set)
    groups: int = 0


@dataclass
class Spend:
    """What Cost Explorer said for each month; `gap` when it said nothing at all."""

    months: dict[str, MonthSpend] = field(default_factory=dict)
    gap: Gap | None = None

    def _month(self, month: str) -> MonthSpend | Gap:
        if self.gap is not None:
            return self.gap
        found = self.months.get(month)
        if found is None or not found.present or found.groups == 0:
            return Gap(f"no Cost Explorer data for {month}")
        if found.units - {"USD"}:
            return Gap(f"Cost Explorer reports {', '.join(sorted(found.units))}, not USD")
        return found

    def environment(self, month: str, env: str) -> Decimal | Gap:
        return self._tagged(month, ENV_TAG, env, lambda found: found.by_env)

    def stack(self, month: str, stack: str) -> Decimal | Gap:
        return self._tagged(month, STACK_TAG, stack, lambda found: found.by_stack)

    def _tagged(
        self, month: str, tag: str, value: str, by: Callable[[MonthSpend], dict[str, Decimal]]
    ) -> Decimal | Gap:
        found = self._month(month)
        if isinstance(found, Gap):
            return found
        spend = by(found)
        if not any(spend):  # only the untagged ("") group: the tag is not active yet
            return Gap(f"{tag} is not an active cost-allocation tag yet (all spend untagged)")
        if value not in spend:
            return Gap(f"no spend tagged {tag}={value} in {month}")
        return cents(spend[value])


def _tag_value(key: str) -> str:
    """`perfenv:environment$dev` -> `dev`; an untagged group has an empty value."""
    return key.split("$", 1)[1] if "$" in key else ""


def parse_cost_and_usage(pages: list[dict[str, Any]]) -> Spend:
    spend = Spend()
    for page in pages:
        for result in page.get("ResultsByTime", []):
            start = str(result.get("TimePeriod", {}).get("Start", ""))[:7]
            month = spend.months.setdefault(start, MonthSpend())
            month.present = True
            for group in result.get("Groups", []):
                keys = list(group.get("Keys", []))
                metric = group.get("Metrics", {}).get(METRIC)
                if metric is None:
                    continue
                amount = Decimal(str(metric.get("Amount", "0")))
                month.units.add(str(metric.get("Unit", "USD")))
                env = _tag_value(keys[0]) if keys else ""
                stack = _tag_value(keys[1]) if len(keys) > 1 else ""
                month.by_env[env] += amount
                month.by_stack[stack] += amount
                month.groups += 1
    return spend


def fetch_spend(clients: Clients, asker: Asker, first: date, end: date) -> Spend:
    """Every month from `first` up to `end` (exclusive), grouped by both tags, all pages."""
    ce = clients.client("ce")
    pages: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        kwargs: dict[str, Any] = {
            "TimePeriod": {"Start": first.isoformat(), "End": end.isoformat()},
            "Granularity": "MONTHLY",
            "Metrics": [METRIC],
            "GroupBy": [{"Type": "TAG", "Key": ENV_TAG}, {"Type": "TAG", "Key": STACK_TAG}],
        }
        if token:
            kwargs["NextPageToken"] = token
        page = asker.ask("Cost Explorer", partial(ce.get_cost_and_usage, **kwargs))
        if isinstance(page, Gap):
            if not pages:
                return Spend(gap=page)
            break
        pages.append(page)
        token = page.get("NextPageToken")
        if not token:
            break
    return parse_cost_and_usage(pages)


@dataclass(frozen=True)
class Forecast:
    amount: Decimal | Gap
    method: str


def forecast(
    clients: Clients,
    asker: Asker,
    env: str,
    actual: Decimal | Gap,
    first: date,
    today: date,
) -> Forecast:
    """The month's forecast: Cost Explorer's where offered, else a run-rate projection."""
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
        return Forecast(cents(actual + rest), "Cost Explorer forecast")
    days = calendar.monthrange(first.year, first.month)[1]
    elapsed = (today - first).days  # whole days with data; today's is still coming in
    if elapsed <= 0:
        return Forecast(Gap(f"too early in the month for a run-rate ({answer.reason})"), "")
    projected = cents(actual * days / elapsed)
    return Forecast(projected, f"run-rate projection ({elapsed} of {days} days)")
