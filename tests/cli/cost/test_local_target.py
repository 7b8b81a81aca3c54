"""The must-show, end to end on the local target: dev, staging and cost stacks up in the
embedded emulator (`perfenv up --stack ...`), Cost Explorer results injected into it, then
`perfenv cost report --target local` in every format."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perfenv.cli.main import app
from tests.cli.cost.conftest import ce_month, environment_files, inject_cost_and_usage

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
    assert rows["dev"]["alarms"].endswith("OK")  # the dev stack's own alarms, found
    assert rows["dev"]["billing_alarm"].startswith("OK (> 5000 USD")

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
