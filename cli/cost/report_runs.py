"""The cost report's run rows: each perf run of the month, from the state store."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from perfenv.cli.cost.money import Gap, dec
from perfenv.cli.cost.spend import Spend, label, next_month
from perfenv.cli.state.store import Store

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


def run_rows(
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
