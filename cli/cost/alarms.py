"""Alarm states for the report: the billing alarm (us-east-1) and each environment's alarms.

An alarm belongs to an environment by its name, as the program makes it (the Environment
component is named after the environment, its Monitoring child `<env>-mon`, so every alarm is
`<env>-mon-...`), and otherwise by its `perfenv:environment` tag. describe_alarms returns no
tags and the tagging API does not list alarms everywhere, so tags cost one request per alarm:
only alarms whose name does not say are asked. Recent transitions come from describe_alarm_history
where the API offers it: one request per region, all alarms at once.
"""

from __future__ import annotations

import json
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from perfenv.cli.cost.aws_clients import BILLING_REGION, Asker, Clients
from perfenv.cli.cost.money import Gap
from perfenv.cli.cost.spend import ENV_TAG

HISTORY_DAYS = 7
MAX_PAGES = 20
POOL = 8
SHOW_TRANSITIONS = 3
MONITORING_INFIX = "-mon-"  # infra/environment.py: Monitoring(f"{name}-mon"), alarms under it


@dataclass(frozen=True)
class Alarm:
    name: str
    arn: str
    region: str
    state: str
    since: datetime | None
    namespace: str
    metric: str
    threshold: float | None

    @property
    def billing(self) -> bool:
        return self.namespace == "AWS/Billing" and self.metric == "EstimatedCharges"


@dataclass
class AlarmFacts:
    by_region: dict[str, list[Alarm] | Gap] = field(default_factory=dict)
    env_of: dict[str, str] = field(default_factory=dict)  # arn -> environment
    history: dict[str, list[str] | Gap] = field(default_factory=dict)  # region -> lines by name
    transitions: dict[str, list[tuple[datetime, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )  # alarm name -> (when, "OK->ALARM")


def _describe(clients: Clients, asker: Asker, region: str) -> list[Alarm] | Gap:
    cw = clients.client("cloudwatch", region)
    pages = asker.pages(
        f"CloudWatch alarms ({region})", cw.describe_alarms, MAX_PAGES, MaxRecords=100
    )
    if isinstance(pages, Gap):
        return pages
    alarms: list[Alarm] = []
    for page in pages:
        for raw in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
            alarms.append(
                Alarm(
                    name=raw["AlarmName"],
                    arn=raw["AlarmArn"],
                    region=region,
                    state=raw.get("StateValue", "?"),
                    since=raw.get("StateUpdatedTimestamp"),
                    namespace=raw.get("Namespace", ""),
                    metric=raw.get("MetricName", ""),
                    threshold=raw.get("Threshold"),
                )
            )
    return alarms


def _history(
    clients: Clients, asker: Asker, region: str, now: datetime
) -> list[dict[str, Any]] | Gap:
    cw = clients.client("cloudwatch", region)
    pages = asker.pages(
        "CloudWatch alarm history",
        cw.describe_alarm_history,
        MAX_PAGES,
        HistoryItemType="StateUpdate",
        StartDate=now - timedelta(days=HISTORY_DAYS),
        EndDate=now,
        MaxRecords=100,
        ScanBy="TimestampDescending",
    )
    if isinstance(pages, Gap):
        return pages
    return [item for page in pages for item in page.get("AlarmHistoryItems", [])]


def _transition(item: dict[str, Any]) -> str:
    try:
        data = json.loads(item.get("HistoryData", "{}"))
        old, new = data["oldState"]["stateValue"], data["newState"]["stateValue"]
    except (KeyError, TypeError, ValueError):
        return str(item.get("HistorySummary", "state update"))
    return f"{old}->{new}"


def _env_tag(clients: Clients, asker: Asker, alarm: Alarm) -> str | None:
    cw = clients.client("cloudwatch", alarm.region)
    answer = asker.ask(
        "CloudWatch alarm tags", lambda: cw.list_tags_for_resource(ResourceARN=alarm.arn)
    )
    if isinstance(answer, Gap):
        return None
    for tag in answer.get("Tags", []):
        if tag.get("Key") == ENV_TAG:
            return str(tag.get("Value"))
    return None


def env_by_name(alarm: str, envs: list[str]) -> str | None:
    """The environment whose monitoring made `alarm` (`<env>-mon-...`), longest name first."""
    found = [env for env in envs if alarm.startswith(f"{env}{MONITORING_INFIX}")]
    return max(found, key=len) if found else None


def fetch_alarms(
    clients: Clients, asker: Asker, regions: set[str], now: datetime, envs: list[str]
) -> AlarmFacts:
    facts = AlarmFacts()
    ordered = sorted(regions | {BILLING_REGION})
    with ThreadPoolExecutor(POOL) as pool:
        for region, alarms in zip(
            ordered, pool.map(lambda r: _describe(clients, asker, r), ordered), strict=True
        ):
            facts.by_region[region] = alarms
        tagged = []
        for alarms in facts.by_region.values():
            for alarm in [] if isinstance(alarms, Gap) else alarms:
                named = None if alarm.billing else env_by_name(alarm.name, envs)
                if named is not None:
                    facts.env_of[alarm.arn] = named
                elif not alarm.billing:
                    tagged.append(alarm)
        for alarm, env in zip(
            tagged, pool.map(lambda a: _env_tag(clients, asker, a), tagged), strict=True
        ):
            if env is not None:
                facts.env_of[alarm.arn] = env
    for region in ordered:  # in turn: a history API that is not offered is asked once
        items = _history(clients, asker, region, now)
        if isinstance(items, Gap):
            facts.history[region] = items
            continue
        facts.history[region] = []
        for item in items:
            when = item.get("Timestamp")
            if isinstance(when, datetime):
                facts.transitions[str(item.get("AlarmName"))].append((when, _transition(item)))
    return facts


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "?"


def billing_cell(facts: AlarmFacts) -> str | Gap:
    alarms = facts.by_region.get(BILLING_REGION)
    if isinstance(alarms, Gap):
        return alarms
    billing = [a for a in alarms or [] if a.billing]
    if not billing:
        return f"none in {BILLING_REGION}"
    return "; ".join(
        f"{a.state} (> {a.threshold:g} USD, since {_when(a.since)})"
        if a.threshold is not None
        else f"{a.state} (since {_when(a.since)})"
        for a in billing
    )


def env_alarms(facts: AlarmFacts, env: str, region: str) -> list[Alarm] | Gap:
    alarms = facts.by_region.get(region)
    if isinstance(alarms, Gap):
        return alarms
    return [a for a in alarms or [] if facts.env_of.get(a.arn) == env]


def alarms_cell(facts: AlarmFacts, env: str, region: str) -> str | Gap:
    alarms = env_alarms(facts, env, region)
    if isinstance(alarms, Gap):
        return alarms
    if not alarms:
        return f"none tagged {ENV_TAG}={env} in {region}"
    counts: dict[str, int] = defaultdict(int)
    for a in alarms:
        counts[a.state] += 1
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    firing = [f"{a.name} {a.state} since {_when(a.since)}" for a in alarms if a.state != "OK"]
    return "; ".join([summary, *firing])


def transitions_cell(facts: AlarmFacts, env: str, region: str) -> str | Gap:
    history = facts.history.get(region)
    if isinstance(history, Gap):
        return history
    alarms = env_alarms(facts, env, region)
    if isinstance(alarms, Gap):
        return alarms
    seen = sorted(
        (
            (when, f"{a.name} {change} {_when(when)}")
            for a in alarms
            for when, change in facts.transitions.get(a.name, [])
        ),
        reverse=True,
    )
    if not seen:
        return f"none in the last {HISTORY_DAYS} days"
    return "; ".join(text for _, text in seen[:SHOW_TRANSITIONS])
