"""The account's budgets, read back: limit, notifications and subscribers per environment.

A budget belongs to an environment when its cost filter is that environment's tag
(`user:perfenv:environment$<name>`, as the cost stack declares it), or, failing that, when its
name is the environment's (`<name>`, `<name>-...`, `perfenv-<name>...`). Where the API does not
return something (no budget, subscribers not offered), the stack file's declaration is shown
and the source column says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from perfenv.cli.cost.aws_clients import Asker, Clients
from perfenv.cli.cost.money import Gap, plain
from perfenv.cli.cost.spend import ENV_TAG

MAX_PAGES = 50
POOL = 8


@dataclass(frozen=True)
class Notification:
    kind: str  # ACTUAL | FORECASTED
    comparison: str
    threshold: Decimal
    threshold_type: str  # PERCENTAGE | ABSOLUTE_VALUE
    subscribers: tuple[str, ...] | None = None  # None: the API did not return them

    def text(self, currency: str = "USD") -> str:
        unit = "%" if self.threshold_type == "PERCENTAGE" else f" {currency}"
        return f"{plain(self.threshold)}{unit} {self.kind.lower()}"

    def api_shape(self) -> dict[str, Any]:
        return {
            "NotificationType": self.kind,
            "ComparisonOperator": self.comparison,
            "Threshold": float(self.threshold),
            "ThresholdType": self.threshold_type,
        }


@dataclass
class BudgetInfo:
    name: str
    limit: Decimal
    unit: str
    notifications: list[Notification] | Gap = field(default_factory=list)
    subscribers_gap: Gap | None = None


def _filter_envs(budget: dict[str, Any]) -> set[str]:
    values = budget.get("CostFilters", {}).get("TagKeyValue", [])
    prefix = f"user:{ENV_TAG}$"
    return {v[len(prefix) :] for v in values if isinstance(v, str) and v.startswith(prefix)}


def _name_matches(name: str, env: str) -> bool:
    for base in (env, f"perfenv-{env}"):
        if name == base or name.startswith(f"{base}-"):
            return True
    return False


def match_budgets(budgets: Iterable[dict[str, Any]], envs: Iterable[str]) -> dict[str, Any]:
    """env -> the budget that counts its spend (by tag filter first, then by name)."""
    budgets = list(budgets)
    found: dict[str, Any] = {}
    for env in envs:
        by_filter = [b for b in budgets if env in _filter_envs(b)]
        by_name = [
            b for b in budgets if not _filter_envs(b) and _name_matches(b["BudgetName"], env)
        ]
        candidates = by_filter or by_name
        if candidates:
            found[env] = min(candidates, key=lambda b: len(b["BudgetName"]))
    return found


def _notification(raw: dict[str, Any]) -> Notification:
    return Notification(
        kind=str(raw.get("NotificationType", "ACTUAL")),
        comparison=str(raw.get("ComparisonOperator", "GREATER_THAN")),
        threshold=Decimal(str(raw.get("Threshold", 0))),
        threshold_type=str(raw.get("ThresholdType", "PERCENTAGE")),
    )


def _account_notifications(
    budgets_api: Any, asker: Asker, account: str
) -> dict[str, list[Notification]] | Gap:
    """Every budget's notifications in one paged call, where the API offers it."""
    pages = asker.pages(
        "budget notifications for account API",
        budgets_api.describe_budget_notifications_for_account,
        MAX_PAGES,
        AccountId=account,
        MaxResults=100,
    )
    if isinstance(pages, Gap):
        return pages
    out: dict[str, list[Notification]] = {}
    for page in pages:
        for entry in page.get("BudgetNotificationsForAccount", []):
            out.setdefault(str(entry["BudgetName"]), []).extend(
                _notification(n) for n in entry.get("Notifications", [])
            )
    return out


def _notifications(
    budgets_api: Any, asker: Asker, account: str, name: str
) -> list[Notification] | Gap:
    pages = asker.pages(
        "budget notifications API",
        budgets_api.describe_notifications_for_budget,
        MAX_PAGES,
        AccountId=account,
        BudgetName=name,
        MaxResults=100,
    )
    if isinstance(pages, Gap):
        return pages
    return [_notification(n) for page in pages for n in page.get("Notifications", [])]


def _subscribers(
    budgets_api: Any, asker: Asker, account: str, name: str, note: Notification
) -> tuple[str, ...] | Gap:
    answer = asker.ask(
        "budget subscribers API",
        lambda: budgets_api.describe_subscribers_for_notification(
            AccountId=account, BudgetName=name, Notification=note.api_shape(), MaxResults=100
        ),
    )
    if isinstance(answer, Gap):
        return answer
    return tuple(str(s.get("Address", "")) for s in answer.get("Subscribers", []))


def fetch_budgets(clients: Clients, asker: Asker, envs: list[str]) -> dict[str, BudgetInfo] | Gap:
    """env -> its budget as the Budgets API returns it (absent: no budget in the account)."""
    identity = asker.ask("STS", lambda: clients.client("sts").get_caller_identity())
    if isinstance(identity, Gap):
        return identity
    account = str(identity["Account"])
    api = clients.client("budgets")
    pages = asker.pages(
        "Budgets API", api.describe_budgets, MAX_PAGES, AccountId=account, MaxResults=100
    )
    if isinstance(pages, Gap):
        return pages
    listed = [budget for page in pages for budget in page.get("Budgets", [])]
    matched = match_budgets(listed, envs)
    infos = {
        env: BudgetInfo(
            name=b["BudgetName"],
            limit=Decimal(str(b.get("BudgetLimit", {}).get("Amount", "0"))),
            unit=str(b.get("BudgetLimit", {}).get("Unit", "USD")),
        )
        for env, b in matched.items()
    }
    by_account = _account_notifications(api, asker, account) if infos else {}
    if isinstance(by_account, Gap):  # not offered: one request per budget instead
        with ThreadPoolExecutor(POOL) as pool:
            asked = pool.map(lambda i: _notifications(api, asker, account, i.name), infos.values())
            for info, notes in zip(infos.values(), asked, strict=True):
                info.notifications = notes
    else:
        for info in infos.values():
            info.notifications = list(by_account.get(info.name, []))
    _fill_subscribers(api, asker, account, infos)
    return infos


def _fill_subscribers(api: Any, asker: Asker, account: str, infos: dict[str, BudgetInfo]) -> None:
    """Subscribers per notification; the first answer decides whether the API is offered."""
    jobs = [
        (info, i, note)
        for info in infos.values()
        if not isinstance(info.notifications, Gap)
        for i, note in enumerate(info.notifications)
    ]
    if not jobs:
        return

    def one(job: tuple[BudgetInfo, int, Notification]) -> None:
        info, i, note = job
        subs = _subscribers(api, asker, account, info.name, note)
        assert not isinstance(info.notifications, Gap)
        if isinstance(subs, Gap):
            info.subscribers_gap = subs
        else:
            info.notifications[i] = replace(note, subscribers=subs)

    one(jobs[0])  # a probe: an API that is not offered is asked once, not once per budget
    if "budget subscribers API" in asker.missing:
        for info, _, _ in jobs:
            info.subscribers_gap = asker.missing["budget subscribers API"]
        return
    with ThreadPoolExecutor(POOL) as pool:
        list(pool.map(one, jobs[1:]))
