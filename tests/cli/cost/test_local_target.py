"""The must-show, end to end on the local target: dev, staging and cost stacks up in the
embedded emulator (`perfenv up --stack ...`), Cost Explorer results injected into it, then
`perfenv cost report --target local` in every format."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perfenv.cli.main import app
from tests.cli.cost.conftest import (
    ce_day,
    ce_month,
    environment_files,
    inject_cost_and_usage,
    screenshot,
)

emulator = pytest.importorskip("perfenv.cli.targets.local.emulator")
runner = CliRunner()
STACKS = ("cost", "dev", "staging")
pytestmark = pytest.mark.slow


@pytest.fixture
def stacks_up() -> Iterator[str]:
    """The three long-lived stacks up in a fresh emulator (PERFENV_HOME is the test's tmp)."""
    up: list[str] = []
    try:
        for stack in STACKS:
            result = runner.invoke(app, ["up", "--stack", stack, "--target", "local"])
            assert result.exit_code == 0, result.output
            up.append(stack)
        endpoint = emulator.endpoint()
        assert endpoint is not None
        yield endpoint
    finally:
        for stack in reversed(up):
            runner.invoke(app, ["down", "--stack", stack, "--target", "local"])
        runner.invoke(app, ["local", "stop", "--force"])


def test_report_on_the_local_target_lists_every_environment_as_declared(
    stacks_up: str, tmp_path: Path
) -> None:
    month = datetime.now(UTC).strftime("%Y-%m")
    amounts = {("dev", "dev"): "212.345", ("staging", "staging"): "1733.10"}
    inject_cost_and_usage(stacks_up, {"ResultsByTime": [ce_month(month, f"{month}-28", amounts)]})

    result = runner.invoke(app, ["cost", "report", "--target", "local", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["environment"]: r for r in json.loads(result.stdout)["environments"]}
    for stack in environment_files():
        env = stack.environment
        assert env is not None
        row = rows[env.name]
        assert Decimal(row["budget_usd"]) == Decimal(str(env.budgets.monthly_usd))
        assert row["budget_source"].startswith(f"budget cost-budget-{env.name}-")
        reported = {p.split("%")[0] for p in row["thresholds"].split(", ") if "actual" in p}
        assert {f"{t:g}" for t in env.budgets.thresholds} <= reported
    assert Decimal(rows["dev"]["actual_usd"]) == Decimal("212.35")
    assert Decimal(rows["staging"]["actual_usd"]) == Decimal("1733.10")
    assert rows["staging"]["flag"].startswith("OVER BUDGET")
    assert rows["perf"]["actual_usd"].startswith("n/a: no spend tagged")
    # The dev stack's own alarms, found; each is OK once evaluated, INSUFFICIENT_DATA before
    # (a new alarm's first state, as on AWS; on a busy machine the report can come first).
    summary = rows["dev"]["alarms"].split(";")[0]
    assert re.fullmatch(r"\d+ INSUFFICIENT_DATA(, \d+ OK)?|\d+ OK", summary), summary
    # nothing publishes EstimatedCharges locally: the emulator's evaluation may have moved the
    # billing alarm from OK to INSUFFICIENT_DATA by now
    state, _, rest = rows["dev"]["billing_alarm"].partition(" ")
    assert state in ("OK", "INSUFFICIENT_DATA") and rest.startswith("(> 5000 USD"), rest

    for fmt in ("csv", "md", "html"):
        out = tmp_path / f"report.{fmt}"
        done = runner.invoke(app, ["cost", "report", "--format", fmt, "--out", str(out)])
        assert done.exit_code == 0, done.output
        text = out.read_text()
        for name, row in rows.items():
            assert name in text and row["budget_usd"] in text
            assert str(row["actual_usd"]) in text
    with (tmp_path / "report.csv").open(newline="") as handle:  # as a spreadsheet reads it
        first = handle.read().split("\r\n\r\n")[0]
    parsed = {r["environment"]: r for r in csv.DictReader(io.StringIO(first))}
    assert {k: v["actual_usd"] for k, v in parsed.items()} == {
        k: v["actual_usd"] for k, v in rows.items()
    }


@pytest.fixture
def two_runs() -> Iterator[tuple[str, str, str]]:
    """Two ephemeral runs up and down on the local target: (emulator endpoint, first, second)."""
    stacks: list[str] = []
    try:
        for _ in range(2):
            up = runner.invoke(
                app,
                [
                    "up",
                    "--release",
                    "1.0.0",
                    "--target",
                    "local",
                    "--ttl",
                    "1h",
                    "--format",
                    "json",
                ],
            )
            assert up.exit_code == 0, up.output
            stacks.append(json.loads(up.stdout)["stack"])
            down = runner.invoke(app, ["down", "--stack", stacks[-1], "--target", "local"])
            assert down.exit_code == 0, down.output
        endpoint = emulator.endpoint()
        assert endpoint is not None
        yield endpoint, stacks[0], stacks[1]
    finally:
        runner.invoke(app, ["local", "stop", "--force"])


def test_runs_estimate_against_billed_on_the_local_target(
    two_runs: tuple[str, str, str], tmp_path: Path
) -> None:
    endpoint, billed, unbilled = two_runs
    today = datetime.now(UTC).date()
    days = [
        ce_day(
            today.replace(day=d).isoformat(),
            {("perf", billed): "1.234", ("dev", "dev"): "9.5"}
            if d == today.day
            else {("dev", "dev"): "9.5"},
        )
        for d in range(1, today.day + 1)
    ]
    inject_cost_and_usage(endpoint, {"ResultsByTime": days})

    result = runner.invoke(app, ["cost", "report", "--target", "local", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    runs = {r["stack"]: r for r in data["runs"]}
    first, second, total = runs[billed], runs[unbilled], runs["TOTAL"]
    assert first["actual_usd"] == "1.23" and first["billing"].startswith("billed so far")
    estimate = Decimal(first["estimated_usd"])
    assert Decimal(first["difference_usd"]) == Decimal("1.23") - estimate
    assert first["team"] == "performance" and first["environment"] == "perf"
    assert second["actual_usd"].startswith(
        "n/a: not billed yet (Cost Explorer shows spend up to 24 h"
    )
    assert second["difference_usd"] == second["actual_usd"]
    assert total["actual_usd"] == "1.23" and Decimal(total["estimated_usd"]) == 2 * estimate
    for by in ("owner", "team"):
        rows = data["chargeback"][by]
        assert sum(Decimal(r["actual_usd"]) for r in rows if r[by] != "TOTAL") == Decimal("1.23")
        assert rows[-1]["actual_usd"] == total["actual_usd"]

    page = tmp_path / "cost-report.html"
    html = runner.invoke(app, ["cost", "report", "--format", "html", "--out", str(page)])
    assert html.exit_code == 0, html.output
    assert "Budget burn-down" in page.read_text() and "<svg" in page.read_text()
    shot = tmp_path / "cost-report-local.png"
    taken = screenshot(page, shot)
    print(f"\nlocal cost report: {page}\nscreenshot: {shot if taken else 'no chromium'}")

    month = today.strftime("%Y-%m")
    ledger = runner.invoke(app, ["cost", "report", "--since", month, "--format", "csv"])
    assert ledger.exit_code == 0, ledger.output
    rows = list(csv.DictReader(io.StringIO(ledger.stdout)))
    assert [r["stack"] for r in rows] == sorted([billed, unbilled])
