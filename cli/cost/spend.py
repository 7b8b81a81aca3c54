"""Actual spend from Cost Explorer: at most two queries a report, both tags at once.

Cost Explorer bills each request (and each page), so the report asks `get_cost_and_usage`
grouped by `perfenv:environment` and `perfenv:stack`:

- DAILY over the report month (to tomorrow at most): the environments' and runs' spend of the
  month and the day-by-day series of the burn-down, in one query;
- MONTHLY over the months before it, only when the report looks back (`--months`, `--since`).

Forecasts have no grouping: they live in `cli.cost.forecast`.
"""

from __future__ import annotations

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
BILLING_LAG = "Cost Explorer shows spend up to 24 h after it happens"


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


def months_between(first: date, last: date) -> list[date]:
    """The first days of every month from `first`'s to `last`'s, both included."""
    out = [month_start(first)]
    while out[-1] < month_start(last):
        out.append(next_month(out[-1]))
    return out


def label(first: date) -> str:
    return first.strftime("%Y-%m")


@dataclass
class MonthSpend:
    present: bool = False
    by_env: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    by_stack: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    # day (ISO date) -> environment -> spend, from DAILY results only
    days: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    units: set[str] = field(default_factory=set)
    groups: int = 0
    estimated: bool = False  # Cost Explorer's own flag: the month is not closed yet


@dataclass
class Spend:
    """What Cost Explorer said for each month; `gap` when it said nothing at all."""

    months: dict[str, MonthSpend] = field(default_factory=dict)
    gap: Gap | None = None

    def month(self, month: str) -> MonthSpend | Gap:
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

    def daily(self, month: str, env: str) -> dict[str, Decimal] | Gap:
        """Day -> the environment's spend that day, for every day Cost Explorer listed."""
        total = self.environment(month, env)
        if isinstance(total, Gap):
            return total
        found = self.months[month]
        if not found.days:
            return Gap(f"no daily Cost Explorer data for {month}")
        return {day: spend.get(env, Decimal(0)) for day, spend in sorted(found.days.items())}

    def before(self, month: str, env: str, day: date) -> Decimal | None:
        """The environment's spend on the days before `day`; None without daily data."""
        daily = self.daily(month, env)
        if isinstance(daily, Gap):
            return None
        return sum((v for d, v in daily.items() if d < day.isoformat()), Decimal(0))

    def _tagged(
        self, month: str, tag: str, value: str, by: Callable[[MonthSpend], dict[str, Decimal]]
    ) -> Decimal | Gap:
        found = self.month(month)
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


def _one_day(period: dict[str, Any]) -> bool:
    try:
        start, end = date.fromisoformat(period["Start"]), date.fromisoformat(period["End"])
    except (KeyError, TypeError, ValueError):
        return False
    return end - start == timedelta(days=1)


def parse_cost_and_usage(pages: list[dict[str, Any]]) -> Spend:
    """Monthly and daily results alike: each counts towards the month it starts in."""
    spend = Spend()
    for page in pages:
        for result in page.get("ResultsByTime", []):
            period = result.get("TimePeriod", {})
            start = str(period.get("Start", ""))
            month = spend.months.setdefault(start[:7], MonthSpend())
            month.present = True
            month.estimated |= bool(result.get("Estimated", False))
            day = month.days.setdefault(start, defaultdict(Decimal)) if _one_day(period) else None
            for group in result.get("Groups", []):
                keys = list(group.get("Keys", []))
                metric = group.get("Metrics", {}).get(METRIC)
                if metric is None:
                    continue
                amount = Decimal(str(metric.get("Amount", "0")))
                month.units.add(str(metric.get("Unit", "USD")))
                env = _tag_value(keys[0]) if keys else ""
                month.by_env[env] += amount
                month.by_stack[_tag_value(keys[1]) if len(keys) > 1 else ""] += amount
                month.groups += 1
                if day is not None:
                    day[env] += amount
    return spend


def _query(
    clients: Clients, asker: Asker, granularity: str, start: date, end: date
) -> list[dict[str, Any]] | Gap:
    """Every page of one grouped query from `start` up to `end` (exclusive)."""
    ce = clients.client("ce")
    pages: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        kwargs: dict[str, Any] = {
            "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
            "Granularity": granularity,
            "Metrics": [METRIC],
            "GroupBy": [{"Type": "TAG", "Key": ENV_TAG}, {"Type": "TAG", "Key": STACK_TAG}],
        }
        if token:
            kwargs["NextPageToken"] = token
        page = asker.ask("Cost Explorer", partial(ce.get_cost_and_usage, **kwargs))
        if isinstance(page, Gap):
            return page if not pages else pages
        pages.append(page)
        token = page.get("NextPageToken")
        if not token:
            break
    return pages


def fetch_spend(
    clients: Clients, asker: Asker, *, first: date, end: date, history_from: date
) -> Spend:
    """The report month (`first` up to `end`) by day; `history_from` up to `first` by month."""
    daily = _query(clients, asker, "DAILY", first, end)
    if isinstance(daily, Gap):
        return Spend(gap=daily)
    pages = list(daily)
    if history_from < first:
        monthly = _query(clients, asker, "MONTHLY", history_from, first)
        if not isinstance(monthly, Gap):
            pages += monthly
    return parse_cost_and_usage(pages)
