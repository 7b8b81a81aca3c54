"""Chargeback: the perf runs' estimates and billed spend per owner and per team, per month.

Built from the run rows, so each table's total is the runs' billed total: a run not billed yet
counts in `runs` and `estimated_usd`, never in `actual_usd`.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from perfenv.cli.cost.money import Gap

TOTAL = "TOTAL"
CHARGEBACK_KEYS = ("owner", "team")


def chargeback_columns(by: str) -> list[str]:
    return [
        "month",
        by,
        "runs",
        "billed_runs",
        "estimated_usd",
        "actual_usd",
        "billed_estimate_usd",
        "difference_usd",
    ]


def _row(month: str, who: str, by: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    billed = [r for r in runs if isinstance(r["actual_usd"], Decimal)]
    known = [r["estimated_usd"] for r in runs if isinstance(r["estimated_usd"], Decimal)]
    billed_estimate = sum(
        (r["estimated_usd"] for r in billed if isinstance(r["estimated_usd"], Decimal)),
        Decimal(0),
    )
    actual = sum((r["actual_usd"] for r in billed), Decimal(0))
    return {
        "month": month,
        by: who,
        "runs": len(runs),
        "billed_runs": len(billed),
        "estimated_usd": sum(known, Decimal(0)),
        "actual_usd": actual if billed else Gap("no run billed yet"),
        "billed_estimate_usd": billed_estimate,
        "difference_usd": actual - billed_estimate if billed else Gap("no run billed yet"),
    }


def chargeback(runs: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """One row per (month the run started, owner or team), and a TOTAL row over all of them."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        groups[(str(run["started_at"])[:7], str(run[by]))].append(run)
    rows = [_row(month, who, by, group) for (month, who), group in sorted(groups.items())]
    if rows:
        rows.append(_row("", TOTAL, by, runs))
    return rows
