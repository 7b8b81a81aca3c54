"""The finance report against a moto server with known inputs: figures to the cent, and gaps."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from perfenv.cli.cost.aws_clients import Clients
from perfenv.cli.cost.estimate import estimate_environment
from perfenv.cli.cost.money import Gap
from perfenv.cli.cost.prices import load_prices
from perfenv.cli.cost.records import close_cost_record, write_cost_record
from perfenv.cli.cost.report import CostReport, build_report
from perfenv.cli.state.store import open_store
from tests.cli.cost.conftest import (
    NOW,
    ce_day,
    ce_month,
    declare_budgets,
    environment_files,
    inject_cost_and_usage,
    put_alarm,
)

OCTOBER = {
    ("dev", "dev"): "120.004",
    ("dev", "dev-scratch"): "3.451",
    ("staging", "staging"): "1600.10",
    ("perf", "perf-1-0-0-aaaaaa"): "12.345",
    ("perf", "perf-1-0-1-bbbbbb"): "7.5",
    ("", ""): "50.00",  # untagged spend: counts against no environment
}


def _row(report: CostReport, env: str) -> dict[str, object]:
    return next(r for r in report.environments if r["environment"] == env)


def _record_runs() -> None:
    store = open_store()
    perf = next(f for f in environment_files() if f.stack == "perf").environment
    assert perf is not None
    for stack, release, day in (
        ("perf-1-0-0-aaaaaa", "1.0.0", 3),
        ("perf-1-0-1-bbbbbb", "1.0.1", 9),
    ):
        estimate = estimate_environment(stack, perf, Decimal("1.5"), load_prices())
        started = datetime(2026, 10, day, 10, 0, tzinfo=UTC)
        write_cost_record(
            store, estimate=estimate, release=release, target="local", started_at=started
        )
        close_cost_record(store, stack, datetime(2026, 10, day, 11, 30, tzinfo=UTC))


def test_actual_spend_equals_injected_amounts_to_the_cent(clients: Clients, emulator: str) -> None:
    declare_budgets(clients)
    inject_cost_and_usage(emulator, {"ResultsByTime": [ce_month("2026-10", "2026-11-01", OCTOBER)]})
    _record_runs()
    report = build_report(clients, month="2026-10", now=NOW)

    assert _row(report, "dev")["actual_usd"] == Decimal("123.46")  # 123.455, half up
    assert _row(report, "staging")["actual_usd"] == Decimal("1600.10")
    assert _row(report, "perf")["actual_usd"] == Decimal("19.85")  # 19.845
    assert _row(report, "dev")["used_percent"] == Decimal("41.2")
    assert _row(report, "TOTAL")["actual_usd"] == Decimal("1743.41")
    assert _row(report, "TOTAL")["budget_usd"] == Decimal("2600.00")
    assert _row(report, "dev")["forecast_method"] == "month complete"
    assert (_row(report, "dev")["team"], _row(report, "perf")["team"]) == (
        "platform",
        "performance",
    )
    assert report.requests["Cost Explorer"] == 1


def test_over_budget_environment_is_flagged(clients: Clients, emulator: str) -> None:
    declare_budgets(clients)
    inject_cost_and_usage(emulator, {"ResultsByTime": [ce_month("2026-10", "2026-11-01", OCTOBER)]})
    report = build_report(clients, month="2026-10", now=NOW)

    assert report.flagged == ["staging"]
    assert str(_row(report, "staging")["flag"]).startswith("OVER BUDGET")
    assert "crossed 100%" in str(_row(report, "staging")["flag"])
    assert "OVER BUDGET" not in str(_row(report, "dev")["flag"])


def test_runs_of_the_month_carry_estimate_hours_and_actual(clients: Clients, emulator: str) -> None:
    inject_cost_and_usage(emulator, {"ResultsByTime": [ce_month("2026-10", "2026-11-01", OCTOBER)]})
    _record_runs()
    report = build_report(clients, month="2026-10", now=NOW)

    runs = {r["stack"]: r for r in report.runs}
    assert runs["perf-1-0-0-aaaaaa"]["actual_usd"] == Decimal("12.35")
    assert runs["perf-1-0-1-bbbbbb"]["actual_usd"] == Decimal("7.50")
    assert runs["perf-1-0-0-aaaaaa"]["hours_up"] == Decimal("1.50")
    assert runs["perf-1-0-0-aaaaaa"]["release"] == "1.0.0"
    assert isinstance(runs["perf-1-0-0-aaaaaa"]["estimated_usd"], Decimal)
    assert runs["TOTAL"]["actual_usd"] == Decimal("19.85")
    # A month with no run lists none.
    assert build_report(clients, month="2026-09", now=NOW).runs == []


def test_a_corrupt_run_record_is_named_and_skipped_the_others_reported(
    clients: Clients, emulator: str
) -> None:
    inject_cost_and_usage(emulator, {"ResultsByTime": [ce_month("2026-10", "2026-11-01", OCTOBER)]})
    _record_runs()
    store = open_store()
    (store.root / "costs" / "perf-bad-cccccc.json").write_text('{"stack": ')  # type: ignore[attr-defined]
    good = store.get("costs/perf-1-0-1-bbbbbb.json") or {}
    for stack, broken in (
        ("perf-time-dddddd", {"started_at": "yesterday"}),
        ("perf-cost-eeeeee", {"estimated": "lots"}),
    ):
        store.put(f"costs/{stack}.json", good | {"stack": stack} | broken)
    report = build_report(clients, month="2026-10", now=NOW)
    assert {r["stack"] for r in report.runs} == {"perf-1-0-0-aaaaaa", "perf-1-0-1-bbbbbb", "TOTAL"}
    skipped = [n for n in report.notes if "(skipped)" in n]
    assert len(skipped) == 3, report.notes
    assert any("costs/perf-bad-cccccc.json: malformed JSON" in n for n in skipped)
    assert any("costs/perf-time-dddddd.json: started_at" in n for n in skipped)
    assert any("costs/perf-cost-eeeeee.json: estimated" in n for n in skipped)


def test_budgets_thresholds_and_subscribers_read_back(clients: Clients) -> None:
    declare_budgets(clients)
    report = build_report(clients, month="2026-10", now=NOW)

    perf = _row(report, "perf")
    assert perf["budget_usd"] == Decimal("800.00")
    assert str(perf["budget_source"]).startswith("budget guardrails-budget-perf-")
    assert perf["thresholds"] == "50% actual, 80% actual, 100% actual, 100% forecasted"
    # moto has no describe_subscribers_for_notification: the stack file's, and it says so.
    assert perf["subscribers"] == "finance@example.com, perf@example.com"
    assert "subscribers from stack file" in str(perf["notifications_source"])
    assert "not offered" in str(perf["notifications_source"])


def test_no_cost_explorer_data_is_said_never_zero(clients: Clients) -> None:
    report = build_report(clients, now=NOW)  # the current month, nothing injected

    for row in report.environments:
        assert isinstance(row["actual_usd"], Gap), row
        assert "no" in str(row["actual_usd"])
    dev = _row(report, "dev")
    assert str(dev["actual_usd"]) == "n/a: no Cost Explorer data for 2026-11"
    assert isinstance(dev["forecast_usd"], Gap)
    assert isinstance(dev["used_percent"], Gap)
    assert "Cost Explorer forecast" not in report.requests  # nothing to project from


def test_forecast_not_offered_falls_back_to_a_labelled_run_rate(
    clients: Clients, emulator: str
) -> None:
    groups = {("dev", "dev"): "100.00", ("staging", "staging"): "1400.00", ("perf", "perf"): "5"}
    inject_cost_and_usage(emulator, {"ResultsByTime": [ce_month("2026-11", "2026-11-28", groups)]})
    report = build_report(clients, now=NOW)

    dev, staging = _row(report, "dev"), _row(report, "staging")
    assert dev["forecast_usd"] == Decimal("115.38")  # 100 x 30 days / 26 days of data
    assert dev["forecast_method"] == "perfenv linear forecast (run-rate of 26 of 30 days)"
    assert staging["forecast_usd"] == Decimal("1615.38")
    assert str(staging["flag"]).startswith("FORECAST OVER BUDGET")
    assert report.requests["Cost Explorer forecast"] == 1  # asked once, not per environment
    assert any("forecast is not offered" in n for n in report.notes)


def test_inactive_cost_allocation_tag_is_said(clients: Clients, emulator: str) -> None:
    inject_cost_and_usage(
        emulator, {"ResultsByTime": [ce_month("2026-10", "2026-11-01", {("", ""): "99.99"})]}
    )
    report = build_report(clients, month="2026-10", now=NOW)

    assert "not an active cost-allocation tag" in str(_row(report, "dev")["actual_usd"])


def test_alarm_states_and_history_gap(clients: Clients) -> None:
    put_alarm(clients, "eu-west-1", "dev-p95-x1", "dev", "ALARM")
    put_alarm(clients, "eu-west-1", "dev-cpu-x2", "dev", "OK")
    put_alarm(clients, "eu-west-1", "staging-p95-x3", "staging", "INSUFFICIENT_DATA")
    put_alarm(clients, "eu-west-1", "someone-else", None, "ALARM")
    put_alarm(
        clients,
        "us-east-1",
        "guardrails-estimated-charges-x4",
        "cost",
        "ALARM",
        Namespace="AWS/Billing",
        MetricName="EstimatedCharges",
        Threshold=5000.0,
    )
    report = build_report(clients, month="2026-10", now=NOW)

    dev, staging, perf = (_row(report, e) for e in ("dev", "staging", "perf"))
    assert str(dev["alarms"]).startswith("1 ALARM, 1 OK; dev-p95-x1 ALARM since ")
    assert str(staging["alarms"]).startswith("1 INSUFFICIENT_DATA; staging-p95-x3")
    assert perf["alarms"] == "none tagged perfenv:environment=perf in eu-west-1"
    assert str(dev["billing_alarm"]).startswith("ALARM (> 5000 USD")
    assert str(dev["alarm_transitions"]) == (
        "n/a: CloudWatch alarm history is not offered by the emulator"
    )
    assert report.requests["CloudWatch alarm history"] == 1  # two regions, asked once


def test_no_budget_in_account_reads_the_stack_file(clients: Clients) -> None:
    report = build_report(clients, month="2026-10", now=NOW)

    dev = _row(report, "dev")
    assert dev["budget_usd"] == Decimal("300.00")
    assert dev["budget_source"] == "stack file (no budget in the account)"
    assert dev["thresholds"] == "80% actual, 100% actual, 100% forecasted"
    assert str(dev["notifications_source"]).startswith("stack file")


def test_trend_asks_the_month_by_day_and_the_months_before_in_one_query(
    clients: Clients, emulator: str
) -> None:
    october = [ce_day(f"2026-10-{d:02d}", {("dev", "dev"): "10"}) for d in range(1, 32)]
    inject_cost_and_usage(
        emulator,
        {"ResultsByTime": october},  # the report month, DAILY: asked first
        {"ResultsByTime": [ce_month("2026-09", "2026-10-01", {("dev", "dev"): "250.5"})]},
    )
    report = build_report(clients, month="2026-10", months=3, now=NOW)

    dev = next(r for r in report.trend if r["environment"] == "dev")
    assert dev["2026-09"] == Decimal("250.50")
    assert dev["2026-10"] == Decimal("310.00")
    assert str(dev["2026-08"]) == "n/a: no Cost Explorer data for 2026-08"
    assert report.requests["Cost Explorer"] == 2  # one DAILY month, one MONTHLY history
    assert report.flagged == ["dev"]


def test_stack_files_in_another_dir(clients: Clients, tmp_path: Path, repo: Path) -> None:
    text = (repo / "stacks" / "Pulumi.dev.yaml").read_text()
    (tmp_path / "Pulumi.dev.yaml").write_text(text.replace("monthly_usd: 300", "monthly_usd: 42"))
    report = build_report(clients, month="2026-10", now=NOW, stacks_dir=tmp_path)

    assert [r["environment"] for r in report.environments] == ["dev", "TOTAL"]
    assert report.environments[0]["budget_usd"] == Decimal("42.00")


def test_unsupported_apis_cost_one_request_each(clients: Clients, emulator: str) -> None:
    declare_budgets(clients)
    groups = {("dev", "dev"): "10", ("staging", "staging"): "10", ("perf", "perf"): "10"}
    inject_cost_and_usage(emulator, {"ResultsByTime": [ce_month("2026-11", "2026-11-28", groups)]})
    sent: list[str] = []
    for service, region in (
        ("ce", "us-east-1"),
        ("budgets", "us-east-1"),
        ("cloudwatch", "us-east-1"),
        ("cloudwatch", "eu-west-1"),
    ):
        clients.client(service, region).meta.events.register(
            "before-send", lambda event_name, **_: sent.append(event_name.split(".")[-1])
        )
    build_report(clients, now=NOW)

    # Three environments, twelve notifications, two regions: each missing API asked once,
    # with no botocore retry behind the call.
    assert sent.count("GetCostForecast") == 1
    assert sent.count("DescribeSubscribersForNotification") == 1
    assert sent.count("DescribeAlarmHistory") == 1
    assert sent.count("GetCostAndUsage") == 1
