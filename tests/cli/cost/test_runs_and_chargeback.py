"""Each perf run's recorded estimate against what Cost Explorer billed for its stack tag, and the
chargeback per owner and team, against a moto server with known answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from perfenv.cli.cost.aws_clients import Clients
from perfenv.cli.cost.estimate import estimate_environment
from perfenv.cli.cost.money import Gap
from perfenv.cli.cost.prices import load_prices
from perfenv.cli.cost.records import close_cost_record, write_cost_record
from perfenv.cli.cost.report import build_report
from perfenv.cli.state.store import open_store
from tests.cli.cost.conftest import NOW, ce_day, environment_files, inject_cost_and_usage


def record_run(
    stack: str,
    started: datetime,
    ended: datetime | None,
    *,
    owner: str = "ana",
    team: str = "payments",
    cap: str | None = None,
) -> Decimal:
    """A run's cost record as `perfenv run` writes it; returns its recorded estimate."""
    perf = next(f for f in environment_files() if f.stack == "perf").environment
    assert perf is not None
    estimate = estimate_environment(stack, perf, Decimal("1.5"), load_prices())
    store = open_store()
    record = write_cost_record(
        store,
        estimate=estimate,
        release=stack.split("-")[1],
        target="aws",
        started_at=started,
        cap_usd=cap,
        owner=owner,
        team=team,
    )
    if ended is not None:
        close_cost_record(store, stack, ended)
    return Decimal(record["estimated"])


def _runs(clients: Clients, **kwargs: object) -> dict[str, dict[str, object]]:
    report = build_report(clients, now=NOW, **kwargs)  # type: ignore[arg-type]
    return {str(r["stack"]): r for r in report.runs}


def test_billed_run_shows_estimate_actual_and_difference_the_recent_one_not_billed_yet(
    clients: Clients, emulator: str
) -> None:
    old = datetime(2026, 11, 20, 9, tzinfo=UTC)
    billed_est = record_run("perf-1-billed", old, old + timedelta(hours=1), cap="25")
    recent = NOW - timedelta(hours=3)
    record_run("perf-2-recent", recent, recent + timedelta(hours=1), owner="bo", team="search")
    days = [ce_day(f"2026-11-{d:02d}", {("perf", "perf-1-billed"): "1.004"}) for d in (20, 21)]
    inject_cost_and_usage(emulator, {"ResultsByTime": days})
    runs = _runs(clients)

    billed = runs["perf-1-billed"]
    assert billed["estimated_usd"] == billed_est
    assert billed["actual_usd"] == Decimal("2.01")  # 2.008 to the cent, half up
    assert billed["difference_usd"] == Decimal("2.01") - billed_est
    expected = ((Decimal("2.01") - billed_est) * 100 / billed_est).quantize(Decimal("0.1"))
    assert billed["difference_percent"] == expected
    assert billed["billing"] == "billed"
    assert billed["cap_usd"] == Decimal("25") and billed["owner"] == "ana"

    late = runs["perf-2-recent"]
    assert isinstance(late["actual_usd"], Gap)
    assert str(late["actual_usd"]).startswith("n/a: not billed yet (Cost Explorer shows spend")
    assert str(late["billing"]).endswith("the run ended 2.0 h ago")
    assert late["cap_usd"] == "none"
    assert isinstance(late["difference_usd"], Gap)

    total = runs["TOTAL"]
    assert total["actual_usd"] == Decimal("2.01")
    assert total["estimated_usd"] == billed_est * 2  # both runs are the same shape
    assert total["difference_usd"] == billed["difference_usd"]  # over the billed run only


def test_chargeback_per_owner_and_team_adds_up_to_the_billed_total(
    clients: Clients, emulator: str
) -> None:
    day = datetime(2026, 11, 3, 9, tzinfo=UTC)
    hour = timedelta(hours=1)
    record_run("perf-a-aaaaaa", day, day + hour, owner="ana", team="payments")
    record_run("perf-b-bbbbbb", day, day + hour, owner="bo", team="payments")
    record_run("perf-c-cccccc", day, day + hour, owner="bo", team="search")
    record_run("perf-d-dddddd", NOW - hour, None, owner="ana", team="search")  # still up
    groups = {
        ("perf", "perf-a-aaaaaa"): "1.10",
        ("perf", "perf-b-bbbbbb"): "2.20",
        ("perf", "perf-c-cccccc"): "3.30",
        ("perf", "perf-d-dddddd"): "0.40",  # billed so far
    }
    inject_cost_and_usage(emulator, {"ResultsByTime": [ce_day("2026-11-03", groups)]})
    report = build_report(clients, now=NOW)

    billed_total = next(r for r in report.runs if r["stack"] == "TOTAL")["actual_usd"]
    assert billed_total == Decimal("7.00")
    for by, expected in (
        ("owner", {"ana": Decimal("1.50"), "bo": Decimal("5.50")}),
        ("team", {"payments": Decimal("3.30"), "search": Decimal("3.70")}),
    ):
        rows = report.chargeback[by]
        per = {r[by]: r["actual_usd"] for r in rows if r[by] != "TOTAL"}
        assert per == expected
        assert sum(per.values()) == billed_total
        assert rows[-1][by] == "TOTAL" and rows[-1]["actual_usd"] == billed_total
        assert all(r["month"] == "2026-11" for r in rows[:-1])
    still_up = next(r for r in report.runs if r["stack"] == "perf-d-dddddd")
    assert str(still_up["billing"]).startswith("billed so far")


def test_a_run_long_gone_with_nothing_billed_says_why_never_zero(
    clients: Clients, emulator: str
) -> None:
    day = datetime(2026, 11, 3, 9, tzinfo=UTC)
    record_run("perf-x-xxxxxx", day, day + timedelta(hours=1))
    inject_cost_and_usage(
        emulator, {"ResultsByTime": [ce_day("2026-11-03", {("dev", "dev"): "5"})]}
    )
    run = _runs(clients)["perf-x-xxxxxx"]

    assert str(run["actual_usd"]) == "n/a: no spend tagged perfenv:stack=perf-x-xxxxxx in 2026-11"
    assert str(run["billing"]).startswith("nothing billed to perfenv:stack=perf-x-xxxxxx")


def test_since_lists_runs_of_earlier_months_with_their_monthly_spend(
    clients: Clients, emulator: str
) -> None:
    record_run(
        "perf-s-ssssss", datetime(2026, 9, 14, tzinfo=UTC), datetime(2026, 9, 14, 2, tzinfo=UTC)
    )
    record_run(
        "perf-t-tttttt", datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 2, 2, tzinfo=UTC)
    )
    record_run(
        "perf-u-uuuuuu", datetime(2026, 8, 30, tzinfo=UTC), datetime(2026, 8, 30, 2, tzinfo=UTC)
    )
    sept = {
        "TimePeriod": {"Start": "2026-09-01", "End": "2026-10-01"},
        "Groups": [
            {
                "Keys": ["perfenv:environment$perf", "perfenv:stack$perf-s-ssssss"],
                "Metrics": {"UnblendedCost": {"Amount": "4.5", "Unit": "USD"}},
            }
        ],
    }
    inject_cost_and_usage(
        emulator,
        {"ResultsByTime": [ce_day("2026-11-02", {("perf", "perf-t-tttttt"): "0.9"})]},
        {"ResultsByTime": [sept]},
    )
    report = build_report(clients, now=NOW, since="2026-09")

    runs = {r["stack"]: r for r in report.runs}
    assert set(runs) == {"perf-s-ssssss", "perf-t-tttttt", "TOTAL"}  # August's is before
    assert runs["perf-s-ssssss"]["actual_usd"] == Decimal("4.50")
    assert runs["perf-t-tttttt"]["actual_usd"] == Decimal("0.90")
    assert report.requests["Cost Explorer"] == 2
    assert [r["month"] for r in report.chargeback["team"]] == ["2026-09", "2026-11", ""]
