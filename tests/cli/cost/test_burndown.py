"""The month's burn-down per environment: cumulative spend by day, budget and thresholds, the
forecast to the month's end; the same numbers in JSON, Markdown and the HTML page's figure,
which is rendered to PNG and kept with the test's artefacts to be looked at."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from perfenv.cli.cost.aws_clients import Clients
from perfenv.cli.cost.charts import burndown_figure
from perfenv.cli.cost.money import Gap
from perfenv.cli.cost.output import html_page, report_text
from perfenv.cli.cost.report import CostReport, build_report
from perfenv.cli.render import Format
from tests.cli.cost.conftest import (
    NOW,
    ce_day,
    declare_budgets,
    inject_cost_and_usage,
    screenshot,
)

DAILY = {("dev", "dev"): "9.5", ("staging", "staging"): "40", ("perf", "perf-1-0-0-aaaaaa"): "2"}


def _report(clients: Clients, emulator: str) -> CostReport:
    declare_budgets(clients)
    days = [ce_day(f"2026-11-{d:02d}", DAILY) for d in range(1, 27)]  # to yesterday (NOW: 27th)
    days[4]["Groups"] = days[4]["Groups"][:1]  # the 5th: only dev spent
    inject_cost_and_usage(emulator, {"ResultsByTime": days})
    return build_report(clients, now=NOW)


def test_cumulative_spend_by_day_with_thresholds_and_a_labelled_linear_forecast(
    clients: Clients, emulator: str
) -> None:
    report = _report(clients, emulator)
    rows = {r["environment"]: r for r in report.burndown}

    dev, staging = rows["dev"], rows["staging"]
    assert [d["cumulative_usd"] for d in dev["days"][:3]] == [
        Decimal("9.50"),
        Decimal("19.00"),
        Decimal("28.50"),
    ]
    assert staging["days"][4]["spend_usd"] == Decimal("0.00")  # listed day, nothing tagged
    assert (
        staging["days"][-1]["cumulative_usd"] == Decimal("1000.00") == staging["month_to_date_usd"]
    )
    env_row = next(r for r in report.environments if r["environment"] == "staging")
    assert env_row["actual_usd"] == staging["month_to_date_usd"]  # the same number
    assert [(t["percent"], t["amount_usd"]) for t in rows["perf"]["thresholds"]] == [
        (Decimal(50), Decimal("400.00")),
        (Decimal(80), Decimal("640.00")),
        (Decimal(100), Decimal("800.00")),
    ]
    # moto has no get_cost_forecast: perfenv's own linear forecast, and it says so
    assert staging["forecast_usd"] == Decimal("1153.85")  # 1000 x 30 / 26
    assert staging["forecast_method"] == "perfenv linear forecast (run-rate of 26 of 30 days)"
    assert staging["month_end"] == "2026-11-30"


def test_markdown_and_json_carry_the_numbers_the_figure_draws(
    clients: Clients, emulator: str
) -> None:
    report = _report(clients, emulator)
    md = report_text(report, Format.md)
    assert "### Burn-down, 2026-11" in md
    assert "| staging | 1500.00 | 80%: 1200.00, 100%: 1500.00 | 1000.00 | 1153.85 |" in md
    assert "11-26 1000.00" in md
    as_json = report_text(report, Format.json)
    assert '"cumulative_usd": "1000.00"' in as_json and '"forecast_usd": "1153.85"' in as_json


def test_no_daily_data_is_said_in_the_row_and_the_panel(clients: Clients) -> None:
    report = build_report(clients, now=NOW)  # nothing injected
    dev = next(r for r in report.burndown if r["environment"] == "dev")
    assert isinstance(dev["days"], Gap) and "no Cost Explorer data for 2026-11" in str(dev["days"])
    assert "no Cost Explorer data" in html_page(report)


def test_html_draws_a_burndown_per_environment_kept_as_png(
    clients: Clients, emulator: str, tmp_path: Path
) -> None:
    report = _report(clients, emulator)
    page = tmp_path / "cost-report.html"
    page.write_text(html_page(report))
    text = page.read_text()
    assert text.count("<svg") == 1 and "Budget burn-down, 2026-11" in text
    for env in ("dev", "staging", "perf"):
        assert f">{env}<" in text or env in text
    figure = burndown_figure(report.burndown, report.month)
    assert figure is not None
    panels = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title().split(":")[0] for ax in panels] == [
        r["environment"] for r in report.burndown
    ]
    for ax, row in zip(panels, report.burndown, strict=True):
        levels = {
            round(line.get_ydata()[0], 2)
            for line in ax.get_lines()
            if len(set(line.get_ydata())) == 1
        }
        assert float(row["budget_usd"]) in levels  # the budget line
        for t in row["thresholds"]:
            assert float(t["amount_usd"]) in levels  # each threshold line
        texts = [t.get_text() for t in ax.texts]
        assert f"{row['forecast_usd']}\n(perfenv linear forecast)" in texts
        assert str(row["environment"]) in ax.get_title()
    figure_png = tmp_path / "burndown-figure.png"
    figure.savefig(figure_png, dpi=110)
    shot = tmp_path / "cost-report-screenshot.png"
    taken = screenshot(page, shot)
    print(f"\nburn-down figure: {figure_png}\npage screenshot: {shot if taken else 'no chromium'}")
    assert figure_png.stat().st_size > 10_000
    if not taken:
        pytest.skip("no chromium: the page was not screenshotted (the figure PNG was kept)")
    assert shot.stat().st_size > 10_000


def test_the_linear_forecast_leaves_out_todays_partial_day(clients: Clients, emulator: str) -> None:
    days = [ce_day(f"2026-11-{d:02d}", {("dev", "dev"): "10"}) for d in range(1, 27)]
    days.append(ce_day("2026-11-27", {("dev", "dev"): "4"}))  # today, still coming in
    inject_cost_and_usage(emulator, {"ResultsByTime": days})
    dev = next(r for r in build_report(clients, now=NOW).burndown if r["environment"] == "dev")

    assert dev["month_to_date_usd"] == Decimal("264.00")
    assert dev["forecast_usd"] == Decimal("300.00")  # 260 over 26 whole days, for 30


def test_a_cost_explorer_forecast_is_labelled_as_such_and_red_over_budget() -> None:
    row = {
        "environment": "dev",
        "budget_usd": Decimal("300.00"),
        "thresholds": [{"percent": Decimal(80), "amount_usd": Decimal("240.00")}],
        "month_to_date_usd": Decimal("200.00"),
        "forecast_usd": Decimal("320.00"),
        "forecast_method": "Cost Explorer forecast",
        "month_end": "2026-11-30",
        "days": [
            {"date": "2026-11-01", "spend_usd": Decimal(100), "cumulative_usd": Decimal(100)},
            {"date": "2026-11-02", "spend_usd": Decimal(100), "cumulative_usd": Decimal(200)},
        ],
    }
    figure = burndown_figure([row], "2026-11")
    assert figure is not None
    (ax,) = [a for a in figure.axes if a.get_visible()]
    (label,) = [t for t in ax.texts if "forecast" in t.get_text()]
    assert label.get_text() == "320.00\n(Cost Explorer forecast)"
    assert label.get_color() == "#c0392b"  # over the budget
