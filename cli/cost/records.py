"""Per-run cost records (`costs/<stack>.json` in the state store): they outlive the run.

The run manifest (`runs/<stack>.json`) goes when its stack is removed; the cost record stays, so
the monthly report can list every perf run of the month with its estimate and hours up.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from perfenv.cli.cost.estimate import Estimate
from perfenv.cli.cost.money import cents, dec
from perfenv.cli.state.store import Store

SCHEMA = 1


def cost_key(stack: str) -> str:
    return f"costs/{stack}.json"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_cost_record(
    store: Store,
    *,
    estimate: Estimate,
    release: str,
    target: str,
    started_at: datetime,
    cap_usd: float | Decimal | None = None,
    owner: str | None = None,
    team: str | None = None,
) -> dict[str, Any]:
    """Record a run's estimate when it starts (before anything is created).

    `cap_usd` defaults to the cap the estimate was checked against (`Estimate.cap`); owner and
    team are the run's `perfenv:owner` and `perfenv:team` tags, for chargeback.
    """
    cap = cap_usd if cap_usd is not None else estimate.cap
    record: dict[str, Any] = {
        "schema": SCHEMA,
        "stack": estimate.stack,
        "release": release,
        "target": target,
        "environment": estimate.environment,
        "owner": owner,
        "team": team,
        "region": estimate.region,
        "started_at": _iso(started_at),
        "ended_at": None,
        "currency": estimate.currency,
        "estimated": str(cents(estimate.total_at_max)),
        "cap": None if cap is None else str(dec(cap)),
        "estimate": estimate.to_dict(),
    }
    store.put(cost_key(estimate.stack), record)
    return record


def close_cost_record(store: Store, stack: str, ended_at: datetime) -> dict[str, Any] | None:
    """Mark the run's stack as gone (after teardown); None when the run has no record."""
    record = store.get(cost_key(stack))
    if record is None:
        return None
    record["ended_at"] = _iso(ended_at)
    store.put(cost_key(stack), record)
    return record


def results_cost(estimate: Estimate) -> dict[str, Any]:
    """The `cost` section of results.json (docs/results.schema.json: total_usd, currency).

    `total_usd` is the figure the spend cap checked (the fleet at max size), a JSON number
    written from its two-decimal value; the item lines keep their exact decimals as strings.
    """
    return {
        "total_usd": float(cents(estimate.total_at_max)),
        "currency": estimate.currency,
        "basis": "estimate, fleet at max size (the spend cap's figure)",
        "total_at_desired_usd": str(cents(estimate.total)),
        "hours": str(estimate.hours.normalize()),
        "stack": estimate.stack,
        "region": estimate.region,
        "prices": f"{estimate.price_source} ({estimate.price_date})",
        "lines": [
            {k: str(v) if isinstance(v, Decimal) else v for k, v in row.items()}
            for row in estimate.rows()
        ],
    }
