"""Commands: `perfenv cost report | estimate | prices`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from perfenv.cli.commands import cost_app, emit, handled, stderr
from perfenv.cli.errors import BadInput
from perfenv.cli.render import Format

TargetOpt = Annotated[
    str,
    typer.Option("--target", envvar="PERFENV_TARGET", help="local (the embedded emulator) or aws."),
]
FormatOpt = Annotated[Format, typer.Option("--format", help="Output format.")]


@cost_app.command("report")
@handled
def report(
    month: Annotated[
        str | None, typer.Option("--month", help="YYYY-MM; default: this month (UTC).")
    ] = None,
    months: Annotated[int, typer.Option("--months", help="Trend of the last N months.")] = 1,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="YYYY-MM: list the perf runs from this month on; with --format csv, the run "
            "ledger alone (one row per run).",
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
    out: Annotated[Path | None, typer.Option("--out", help="Write here, not stdout.")] = None,
    target: TargetOpt = "local",
) -> None:
    """Budgets, burn-down, alarms per environment; each perf run's estimate against billed."""
    from perfenv.cli.cost.aws_clients import clients_for
    from perfenv.cli.cost.output import report_text
    from perfenv.cli.cost.report import build_report

    with stderr.status("asking budgets, Cost Explorer and CloudWatch..."):
        built = build_report(clients_for(target), month=month, months=months, since=since)
    text = report_text(built, fmt)
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, newline="")
    stderr.print(f"wrote {out}")


@cost_app.command("estimate")
@handled
def estimate(
    stack: Annotated[str, typer.Option("--stack", help="Stack file to price (perf-* reads perf).")],
    hours: Annotated[float, typer.Option("--hours", help="Hours up.")] = 1.0,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=0, help="Load generator workers (default: the stack's)."),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """What a stack costs per hour and for H hours, item by item, and what it leaves out."""
    from perfenv.cli.cost.estimate import estimate_environment
    from perfenv.cli.cost.money import dec
    from perfenv.cli.cost.prices import load_prices
    from perfenv.cli.cost.stacks import environment_stack

    if hours <= 0:
        raise BadInput(f"--hours: must be > 0 (got {hours:g})")
    found = environment_stack(stack)
    assert found.environment is not None
    result = estimate_environment(stack, found.environment, dec(hours), load_prices(), workers)
    if fmt is Format.json:
        emit(result.to_dict(), fmt)
        return
    title = (
        f"{stack}: {found.environment.region}, {hours:g} h, {result.currency} "
        f"(prices of {result.price_date})"
    )
    emit(result.rows(), fmt, title=title)
    for note in result.notes:
        stderr.print(f"not included: {note}", markup=False)


@cost_app.command("prices")
@handled
def prices(
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Rebuild from the AWS Pricing API (aws target).")
    ] = False,
    fmt: FormatOpt = Format.table,
    target: TargetOpt = "local",
) -> None:
    """The shipped price table; `--refresh` rebuilds it from the AWS Pricing API."""
    from perfenv.cli.cost.prices import load_prices
    from perfenv.cli.cost.refresh import refresh_table

    table = load_prices()
    if refresh:
        if target != "aws":
            raise BadInput(
                "cost prices --refresh: the Pricing API is not offered by the local emulator; "
                "use --target aws"
            )
        with stderr.status("asking the AWS Pricing API..."):
            table, notes = refresh_table(table)
        for note in notes:
            stderr.print(note)
    emit(table.rows(), fmt, title=None if fmt is not Format.table else "price table")
