"""The cost report's run rows: each perf run's recorded estimate beside what AWS billed for it.

The estimate is the one recorded when the run came up (its cost record); the actual is the spend
Cost Explorer has tagged with the run's `perfenv:stack`, summed over the months the run spans.
Until Cost Explorer has it (it lags up to a day) the actual is "not billed yet", never a zero.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from perfenv.cli.cost.money import Gap, cents, dec
from perfenv.cli.cost.spend import BILLING_LAG, Spend, label, months_between
from perfenv.cli.state.store import CorruptRecord, Store
from perfenv.infra.tags import tag_key

RUN_COLUMNS = (
    "stack",
    "release",
    "environment",
    "owner",
    "team",
    "target",
    "started_at",
    "ended_at",
    "hours_up",
    "estimated_usd",
    "cap_usd",
    "actual_usd",
    "difference_usd",
    "difference_percent",
    "billing",
)
LAG = timedelta(hours=24)
NOT_BILLED = "not billed yet"
UNASSIGNED_TEAM = "unassigned"


def parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_records(store: Store) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """stack -> what the state store knows of the run: cost record, else the live manifest;
    and a line per record that cannot be read (skipped: one bad record spoils no report)."""
    keys = store.keys("costs/") + store.keys("runs/")
    with ThreadPoolExecutor(8) as pool:
        docs = list(pool.map(lambda key: _record(store, key), keys))
    runs: dict[str, dict[str, Any]] = {}
    skipped: list[str] = []
    for key, (doc, problem) in zip(keys, docs, strict=True):
        problem = problem or _unusable(doc)
        if problem:
            skipped.append(f"state store: {key}: {problem} (skipped)")
            continue
        if not doc or "stack" not in doc:
            continue
        entry = runs.setdefault(str(doc["stack"]), {})
        if key.startswith("costs/"):
            entry["cost"] = doc
        else:
            entry["manifest"] = doc
    return runs, skipped


def _record(store: Store, key: str) -> tuple[dict[str, Any] | None, str]:
    try:
        return store.get(key), ""
    except CorruptRecord as exc:
        return None, exc.why


def _unusable(doc: dict[str, Any] | None) -> str:
    """What in a record the report cannot read (its times, its estimate), if anything."""
    for name in ("started_at", "created_at", "ended_at"):
        try:
            parse_time((doc or {}).get(name))
        except (ValueError, TypeError, AttributeError):
            return f"{name}: not a time"
    if doc and "estimated" in doc:
        try:
            dec(doc["estimated"])
        except ArithmeticError:
            return "estimated: not an amount"
    return ""


def _ago(ended: datetime | None, now: datetime) -> str:
    if ended is None:
        return "the run is still up"
    return f"the run ended {(now - ended).total_seconds() / 3600:.1f} h ago"


def run_actual(
    spend: Spend, stack: str, started: datetime, ended: datetime | None, now: datetime
) -> tuple[Decimal | Gap, str]:
    """(actual spend tagged with the run's stack, what the billing state is)."""
    if spend.gap is not None:
        return spend.gap, f"unknown: {spend.gap.reason}"
    months = [label(m) for m in months_between(started.date(), (ended or now).date())]
    answers = [spend.stack(m, stack) for m in months]
    found = [a for a in answers if isinstance(a, Decimal)]
    recent = ended is None or now - ended < LAG
    if found and recent:
        return sum(found, Decimal(0)), f"billed so far; {BILLING_LAG}: more may come"
    if found:
        estimated = any(getattr(spend.month(m), "estimated", False) for m in months)
        state = "billed (Cost Explorer's estimate until AWS closes the month)"
        return sum(found, Decimal(0)), state if estimated else "billed"
    if recent:
        state = f"{NOT_BILLED}: {BILLING_LAG}; {_ago(ended, now)}"
        return Gap(f"{NOT_BILLED} ({BILLING_LAG})"), state
    gap = next(a for a in answers if isinstance(a, Gap))
    return gap, f"nothing billed to {tag_key('stack')}={stack} a day after the run ended"


def difference(actual: Decimal | Gap, estimated: Decimal | Gap) -> tuple[Any, Any]:
    """(actual - estimate, that as a percentage of the estimate); gaps where either is unknown."""
    if isinstance(actual, Gap):
        return actual, actual
    if isinstance(estimated, Gap):
        return estimated, estimated
    diff = cents(actual - estimated)
    percent = (diff * 100 / estimated).quantize(Decimal("0.1")) if estimated else Gap("estimate 0")
    return diff, percent


def _who(cost: dict[str, Any], manifest: dict[str, Any], name: str, default: str) -> str:
    tags = manifest.get("tags") or {}
    return str(cost.get(name) or tags.get(tag_key(name)) or default)


def run_row(stack: str, entry: dict[str, Any], spend: Spend, now: datetime) -> dict[str, Any]:
    cost, manifest = entry.get("cost", {}), entry.get("manifest", {})
    started = parse_time(cost.get("started_at")) or parse_time(manifest.get("created_at"))
    assert started is not None
    ended = parse_time(cost.get("ended_at"))
    estimated: Decimal | Gap = (
        dec(cost["estimated"]) if "estimated" in cost else Gap("no cost record for this run")
    )
    actual, billing = run_actual(spend, stack, started, ended, now)
    diff, percent = difference(actual, estimated)
    return {
        "stack": stack,
        "release": cost.get("release") or manifest.get("release", ""),
        "environment": _who(cost, manifest, "environment", ""),
        "owner": _who(cost, manifest, "owner", "unknown"),
        "team": _who(cost, manifest, "team", UNASSIGNED_TEAM),
        "target": cost.get("target") or manifest.get("target", ""),
        "started_at": _iso(started),
        "ended_at": _iso(ended) if ended is not None else "still up",
        "hours_up": (Decimal(int(((ended or now) - started).total_seconds())) / 3600).quantize(
            Decimal("0.01")
        ),
        "estimated_usd": estimated,
        "cap_usd": dec(cost["cap"]) if cost.get("cap") is not None else "none",
        "actual_usd": actual,
        "difference_usd": diff,
        "difference_percent": percent,
        "billing": billing,
    }


def run_rows(
    runs: dict[str, dict[str, Any]], spend: Spend, first: date, end: date, now: datetime
) -> list[dict[str, Any]]:
    """Every run that was up between `first` and `end` (exclusive), oldest stack name first."""
    start = datetime.combine(first, datetime.min.time(), UTC)
    stop = datetime.combine(end, datetime.min.time(), UTC)
    rows: list[dict[str, Any]] = []
    for stack, entry in sorted(runs.items()):
        cost, manifest = entry.get("cost", {}), entry.get("manifest", {})
        if not cost and not manifest.get("expires_at"):
            continue  # a long-lived stack brought up with `perfenv up --stack`: not a run
        started = parse_time(cost.get("started_at")) or parse_time(manifest.get("created_at"))
        ended = parse_time(cost.get("ended_at"))
        if started is None or started >= stop or (ended is not None and ended < start):
            continue
        rows.append(run_row(stack, entry, spend, now))
    return rows
