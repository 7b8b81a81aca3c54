"""`perfenv cost report | estimate | prices` through the CLI: exit codes and output."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perfenv.cli.cost.aws_clients import Clients
from perfenv.cli.cost.prices import load_prices
from perfenv.cli.main import app
from tests.cli.cost.conftest import declare_budgets, environment_files, put_alarm

runner = CliRunner()


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch, emulator: str) -> str:
    """`--target local` talks to the test's moto server instead of starting the emulator."""
    monkeypatch.setattr("perfenv.cli.cost.aws_clients.local_endpoint", lambda: emulator)
    return emulator


def _declared() -> dict[str, tuple[Decimal, list[float]]]:
    out = {}
    for stack in environment_files():
        env = stack.environment
        assert env is not None
        out[env.name] = (Decimal(f"{env.budgets.monthly_usd:.2f}"), env.budgets.thresholds)
    return out


def _thresholds(cell: str) -> set[float]:
    return {float(part.split("%")[0]) for part in cell.split(", ") if part.endswith(" actual")}


def test_report_json_lists_every_environment_as_declared(local: str, clients: Clients) -> None:
    declare_budgets(clients)
    put_alarm(clients, "eu-west-1", "dev-p95", "dev", "ALARM")
    result = runner.invoke(app, ["cost", "report", "--target", "local", "--format", "json"])

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rows = {r["environment"]: r for r in data["environments"]}
    declared = _declared()
    assert set(rows) == set(declared) | {"TOTAL"}
    for name, (limit, thresholds) in declared.items():
        assert Decimal(rows[name]["budget_usd"]) == limit
        assert set(thresholds) <= _thresholds(rows[name]["thresholds"])
        assert rows[name]["actual_usd"].startswith("n/a: ")  # nothing injected: never "0"
    assert rows["dev"]["alarms"].startswith("1 ALARM")


def test_report_csv_md_html_write_the_same_rows(
    local: str, clients: Clients, tmp_path: Path
) -> None:
    declare_budgets(clients)
    as_json = runner.invoke(app, ["cost", "report", "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.stdout)["environments"]
    for fmt in ("csv", "md", "html"):
        out = tmp_path / f"report.{fmt}"
        result = runner.invoke(app, ["cost", "report", "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
        text = out.read_text()
        for row in rows:
            assert row["environment"] in text
            assert row["budget_usd"] in text
            assert row["thresholds"] in text if row["environment"] != "TOTAL" else True
    with (tmp_path / "report.csv").open(newline="") as handle:
        first_section = io.StringIO(handle.read().split("\r\n\r\n")[0])
    parsed = list(csv.DictReader(first_section))
    assert [r["environment"] for r in parsed] == [r["environment"] for r in rows]
    assert [r["budget_usd"] for r in parsed] == [r["budget_usd"] for r in rows]
    assert [r["actual_usd"] for r in parsed] == [r["actual_usd"] for r in rows]
    html = (tmp_path / "report.html").read_text()
    assert html.startswith("<!doctype html>") and "<svg" in html


def test_report_months_trend_in_html_has_a_chart(local: str, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = runner.invoke(
        app, ["cost", "report", "--months", "3", "--format", "html", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "Trend, " in text and "<svg" in text


def test_report_bad_month_is_exit_2(local: str) -> None:
    result = runner.invoke(app, ["cost", "report", "--month", "2026-13"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "perfenv: --month: expected YYYY-MM, got '2026-13'"


def test_estimate_perf_two_hours_three_workers_itemizes_and_totals() -> None:
    result = runner.invoke(
        app,
        [
            "cost",
            "estimate",
            "--stack",
            "perf",
            "--hours",
            "2",
            "--workers",
            "3",
            "--format",
            "json",
        ],
    )

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    perf = next(f for f in environment_files() if f.stack == "perf").environment
    assert perf is not None
    table = load_prices()
    price = table.instance_price(perf.region, perf.fleet.instance_type)
    lines = {line["item"]: line for line in data["lines"]}
    assert Decimal(lines["instances (desired size)"]["total"]) == perf.fleet.desired * 2 * price
    assert Decimal(lines["instances (max size)"]["total"]) == perf.fleet.max * 2 * price
    generator_price = table.instance_price(perf.region, perf.load_generator.instance_type)
    assert Decimal(lines["load generator instances"]["total"]) == 4 * 2 * generator_price
    for item in (
        "load balancer hours",
        "load balancer data processed",
        "VPC endpoint hours",
        "VPC endpoint data",
        "EBS gp3 volumes",
        "CloudWatch alarms",
        "CloudWatch dashboards",
        "log ingestion",
    ):
        assert Decimal(lines[item]["total"]) > 0, item
    assert "NAT gateway hours" not in lines  # perf is isolated: VPC endpoints, no NAT
    assert lines["public IPv4 addresses"]["quantity"] == "0"
    assert lines["Kubernetes cluster"]["basis"] == "not included"
    in_total = sum(Decimal(line["total"]) for line in data["lines"] if line["in_total"])
    assert Decimal(data["total"]) == in_total.quantize(Decimal("0.01"))
    assert Decimal(data["total_at_max"]) > Decimal(data["total"])


def test_estimate_table_lists_generators_endpoints_ipv4_and_what_is_left_out() -> None:
    result = runner.invoke(
        app, ["cost", "estimate", "--stack", "perf", "--hours", "2", "--workers", "3"]
    )
    assert result.exit_code == 0, result.output
    for text in (
        "TOTAL (fleet at desired size)",
        "load generator instances",
        "3 worker(s) + 1 master",
        "VPC endpoint hours",
        "public IPv4 addresses",
        "assumption",
        "not included",
    ):
        assert text in result.stdout, text
    assert "not included: Kubernetes cluster: used, not created" in result.stderr


def test_estimate_of_an_ephemeral_stack_reads_the_perf_template() -> None:
    result = runner.invoke(
        app, ["cost", "estimate", "--stack", "perf-1-4-2-abc123", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["environment"] == "perf"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stack", "cost"], "Pulumi.cost.yaml: config: cost is not an environment stack"),
        (["--stack", "nope"], "no such stack file"),
        (["--stack", "dev", "--hours", "0"], "--hours: must be > 0"),
    ],
)
def test_estimate_bad_input_is_one_line_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["cost", "estimate", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_prices_refresh_on_local_is_exit_2_one_line() -> None:
    result = runner.invoke(app, ["cost", "prices", "--refresh", "--target", "local"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Pricing API is not offered by the local emulator" in lines[0]


def test_prices_lists_the_table_with_source_and_date() -> None:
    result = runner.invoke(app, ["cost", "prices", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    perf = [r for r in rows if r["region"] == "eu-west-1" and r["item"] == "instance c6i.large"]
    assert len(perf) == 1 and perf[0]["date"] and perf[0]["source"]


def test_since_csv_is_the_run_ledger_one_row_per_run(local: str) -> None:
    from datetime import UTC, datetime, timedelta

    from tests.cli.cost.conftest import ce_day, inject_cost_and_usage
    from tests.cli.cost.test_runs_and_chargeback import record_run

    now = datetime.now(UTC)
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    record_run("perf-1-0-0-aaaaaa", first, first + timedelta(minutes=1), owner="ana")
    record_run("perf-1-0-1-bbbbbb", max(first, now - timedelta(hours=2)), None, owner="bo")
    spent = {("perf", "perf-1-0-0-aaaaaa"): "0.42"}
    inject_cost_and_usage(local, {"ResultsByTime": [ce_day(first.date().isoformat(), spent)]})
    month = now.strftime("%Y-%m")
    result = runner.invoke(app, ["cost", "report", "--since", month, "--format", "csv"])

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["stack"] for r in rows] == ["perf-1-0-0-aaaaaa", "perf-1-0-1-bbbbbb"]
    for column in ("estimated_usd", "actual_usd", "difference_usd", "owner", "team"):
        assert column in rows[0]
    billed, running = rows
    assert billed["actual_usd"] == "0.42" and billed["owner"] == "ana"
    assert Decimal(billed["difference_usd"]) == Decimal("0.42") - Decimal(billed["estimated_usd"])
    assert (billed["release"], billed["environment"], billed["team"]) == ("1", "perf", "payments")
    assert running["actual_usd"].startswith("n/a: not billed yet")
    assert len(result.stdout.splitlines()) == 3  # the header and one line per run, nothing else


def test_since_after_the_report_month_is_exit_2(local: str) -> None:
    result = runner.invoke(app, ["cost", "report", "--month", "2026-01", "--since", "2026-02"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "perfenv: --since: 2026-02 is after the report month 2026-01"
