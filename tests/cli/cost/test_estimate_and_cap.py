"""The estimate, item by item, and the spend cap that stops a run before anything exists."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from perfenv.cli.cost.cap import check_cost_cap, run_hours
from perfenv.cli.cost.estimate import estimate_environment
from perfenv.cli.cost.prices import load_prices
from perfenv.cli.cost.records import close_cost_record, cost_key, write_cost_record
from perfenv.cli.cost.stacks import environment_stack
from perfenv.cli.errors import BadInput
from perfenv.cli.state.store import open_store
from perfenv.cli.verdict.suite import load_suite


def _suite(tmp_path: Path, cap: float | None, duration: str = "60s") -> Path:
    path = tmp_path / "suite.yaml"
    cap_line = f"max_cost_usd: {cap}\n" if cap is not None else ""
    path.write_text(
        "name: capped\n"
        f"{cap_line}"
        "requests:\n  - {method: GET, path: /items}\n"
        f"scenarios:\n  - {{name: load, kind: load, rate: 10, duration: {duration}}}\n"
    )
    return path


def test_instance_line_is_desired_times_hours_times_price_exactly() -> None:
    perf = environment_stack("perf").environment
    assert perf is not None
    table = load_prices()
    estimate = estimate_environment("perf", perf, Decimal("2"), table)
    price = table.regions["eu-west-1"].instances["c6i.large"]

    assert estimate.line("instances (desired size)").total == 2 * Decimal(2) * price
    assert estimate.line("instances (desired size)").per_hour == 2 * price
    assert estimate.total == sum(line.total for line in estimate.lines if line.in_total)
    assert estimate.total_at_max > estimate.total
    assert "NAT gateway hours" not in {line.item for line in estimate.lines}  # isolated


def test_nat_per_az_prices_one_gateway_per_zone() -> None:
    isolated = environment_stack("staging").environment
    assert isolated is not None
    network = isolated.network.model_copy(update={"isolated": False, "nat": "per_az"})
    staging = isolated.model_copy(update={"network": network})
    estimate = estimate_environment("staging", staging, Decimal(1), load_prices())
    assert estimate.line("NAT gateway hours").quantity == staging.network.az_count == 3


def test_region_without_prices_is_bad_input() -> None:
    dev = environment_stack("dev").environment
    assert dev is not None
    moved = dev.model_copy(update={"region": "ap-south-2"})
    with pytest.raises(BadInput, match="no prices for ap-south-2"):
        estimate_environment("dev", moved, Decimal(1), load_prices())


def test_cap_below_estimate_stops_with_estimate_vs_cap(tmp_path: Path) -> None:
    suite = load_suite(_suite(tmp_path, cap=0.01))
    with pytest.raises(BadInput) as caught:
        check_cost_cap(environment_stack("perf"), suite, stack="perf-1-4-2-abcdef")
    message = str(caught.value)
    assert message.startswith("estimated cost $")
    assert "exceeds max_cost_usd $0.01" in message
    assert caught.value.exit_code == 2


def test_cap_above_estimate_returns_it(tmp_path: Path) -> None:
    suite = load_suite(_suite(tmp_path, cap=25))
    estimate = check_cost_cap(environment_stack("perf"), suite, stack="perf-1-4-2-abcdef")
    table = load_prices()
    # 60 s of load plus the set-up and teardown margin, up to the next 0.01 h
    assert (
        estimate.hours
        == Decimal("0.52")
        == table.assumptions.setup_teardown_hours + Decimal("0.02")
    )
    assert estimate.hours == run_hours(suite, table)
    assert estimate.stack == "perf-1-4-2-abcdef"


def test_the_lower_of_the_run_and_suite_caps_applies_and_no_cap_never_stops(
    tmp_path: Path,
) -> None:
    perf = environment_stack("perf")
    capped = load_suite(_suite(tmp_path, cap=25))
    with pytest.raises(BadInput, match=r"exceeds --max-cost \$0.5 "):
        check_cost_cap(perf, capped, hours=2, cap_usd=0.5)
    # --max-cost never lifts the suite's cap
    with pytest.raises(BadInput, match=r"exceeds max_cost_usd \$0.5 "):
        check_cost_cap(perf, load_suite(_suite(tmp_path, cap=0.5)), hours=2, cap_usd=1000)
    assert check_cost_cap(perf, capped, hours=2, cap_usd=30).cap == Decimal("25")
    assert check_cost_cap(perf, capped, hours=2, cap_usd=20).cap == Decimal("20")
    uncapped = load_suite(_suite(tmp_path, cap=None, duration="200h"))
    assert check_cost_cap(environment_stack("perf"), uncapped).total > 25


def test_cost_record_written_and_closed() -> None:
    store = open_store()
    perf = environment_stack("perf").environment
    assert perf is not None
    estimate = estimate_environment("perf-1-0-0-zzzzzz", perf, Decimal("1"), load_prices())
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    write_cost_record(
        store, estimate=estimate, release="1.0.0", target="local", started_at=start, cap_usd=25
    )
    closed = close_cost_record(store, "perf-1-0-0-zzzzzz", datetime(2026, 11, 2, 10, 0, tzinfo=UTC))

    assert closed is not None and store.get(cost_key("perf-1-0-0-zzzzzz")) == closed
    assert closed["ended_at"] == "2026-11-02T10:00:00Z"
    assert Decimal(closed["estimated"]) == estimate.total_at_max.quantize(Decimal("0.01"))
    assert closed["estimate"]["lines"][0]["item"] == "instances (desired size)"
    assert close_cost_record(store, "never-ran", start) is None


def test_results_cost_section_validates_against_the_schema(repo: Path) -> None:
    import json

    import jsonschema

    from perfenv.cli.cost.records import results_cost

    perf = environment_stack("perf").environment
    assert perf is not None
    estimate = estimate_environment("perf-x", perf, Decimal("0.75"), load_prices())
    section = results_cost(estimate)
    schema = json.loads((repo / "docs" / "results.schema.json").read_text())
    jsonschema.validate(section, schema["properties"]["cost"])
    assert Decimal(str(section["total_usd"])) == estimate.total_at_max.quantize(Decimal("0.01"))
    assert section["lines"][0]["item"] == "instances (desired size)"


def test_run_with_a_cap_below_the_estimate_exits_2_before_creating_anything(
    tmp_path: Path, repo: Path
) -> None:
    from typer.testing import CliRunner

    from perfenv.cli.main import app
    from perfenv.cli.targets.local import emulator

    suite = tmp_path / "capped.yaml"
    text = (repo / "suites" / "release.yaml").read_text()
    suite.write_text(text.replace("max_cost_usd: 25", "max_cost_usd: 0.05"))
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--release",
            "1.0.0",
            "--suite",
            str(suite),
            "--target",
            "local",
            "--out",
            str(tmp_path / "out"),
        ],
    )

    assert result.exit_code == 2, result.output
    assert "exceeds max_cost_usd $0.05" in result.stderr
    assert open_store().keys() == []  # no manifest, no cost record
    assert emulator.running() is None  # the emulator was not even started


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--release", "1.0.0", "--max-cost", "0.01"],
        ["up", "--release", "1.0.0", "--max-cost", "0.01"],
    ],
)
def test_max_cost_below_the_estimate_exits_2_before_anything_is_created(
    command: list[str], tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from perfenv.cli.main import app
    from perfenv.cli.targets.local import emulator

    out = ["--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, [*command, "--target", "local", *out])

    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert line.startswith("perfenv: estimated cost $") and "exceeds --max-cost $0.01 (" in line
    assert len(line.splitlines()) == 1
    assert open_store().keys() == []  # no manifest, no cost record
    assert emulator.running() is None  # the emulator was not even started
    assert not (tmp_path / "out").exists()


def test_a_run_under_max_cost_records_the_cap_with_its_estimate(tmp_path: Path) -> None:
    suite = load_suite(_suite(tmp_path, cap=None))
    estimate = check_cost_cap(environment_stack("perf"), suite, stack="perf-x", cap_usd=30)
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    record = write_cost_record(
        open_store(), estimate=estimate, release="1", target="local", started_at=start
    )
    assert record["cap"] == "30" and record["estimate"]["cap"] == "30"
