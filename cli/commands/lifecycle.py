"""Commands: up, down, run, stacks, reap (the ephemeral run and its halves)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from perfenv.cli.commands import app, deps, emit, fail, handled, stderr
from perfenv.cli.durations import DEFAULT_TTL
from perfenv.cli.errors import BAD_INPUT, OK
from perfenv.cli.project import root
from perfenv.cli.render import Format

TargetOpt = Annotated[
    str | None,
    typer.Option("--target", help="local or aws (default: PERFENV_TARGET, else local)."),
]
FormatOpt = Annotated[Format, typer.Option("--format", help="Output format.")]
MaxCostOpt = Annotated[
    float | None,
    typer.Option(
        "--max-cost",
        min=0,
        help="Cap in USD on the estimated cost, checked before anything is created "
        "(a suite's max_cost_usd still applies: the lower cap wins).",
    ),
]
TtlOpt = Annotated[str, typer.Option("--ttl", help="Expiry of the stack, e.g. 90m, 3h.")]
DEFAULT_SUITE = Path("suites") / "release.yaml"  # under the project root


def progress(line: str) -> None:
    stderr.print(f"{time.strftime('%H:%M:%S')} {line}", markup=False, soft_wrap=True)


def finish(record: Any, fmt: Format, code: int, messages: list[str], **render: Any) -> None:
    emit(record, fmt, **render)
    for message in messages:
        typer.echo(f"perfenv: {message}", err=True)
    if code != OK:
        raise typer.Exit(code)


def _one_of(**options: object) -> None:
    given = [name for name, value in options.items() if value is not None]
    if len(given) != 1:
        names = " or ".join(f"--{n.replace('_', '-')}" for n in options)
        raise fail(f"give exactly one of {names}", BAD_INPUT)


@app.command()
@handled
def up(
    ctx: typer.Context,
    release: Annotated[str | None, typer.Option(help="An ephemeral perf stack for R.")] = None,
    stack: Annotated[str | None, typer.Option(help="A long-lived stack from its file.")] = None,
    target: TargetOpt = None,
    ttl: TtlOpt = DEFAULT_TTL,
    out: Annotated[Path | None, typer.Option(help="Also write the manifest here.")] = None,
    max_cost: MaxCostOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Bring up an ephemeral perf stack (--release) or a long-lived stack (--stack)."""
    from perfenv.cli import lifecycle

    _one_of(release=release, stack=stack)
    if release is not None:
        outcome = lifecycle.up_release(
            release, target, ttl, progress, deps(ctx), out_dir=out, max_cost=max_cost
        )
    else:
        assert stack is not None
        outcome = lifecycle.up_stack(stack, target, progress, deps(ctx))
    finish(outcome.record, fmt, outcome.exit_code, outcome.messages)


@app.command()
@handled
def down(
    ctx: typer.Context,
    stack: Annotated[str | None, typer.Option(help="The stack to remove.")] = None,
    manifest: Annotated[
        Path | None, typer.Option(help="A run's manifest.json: finish what it left.")
    ] = None,
    target: TargetOpt = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Needed to destroy a long-lived stack (not a run's).")
    ] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Destroy a stack, check for leftovers, and forget it."""
    from perfenv.cli import lifecycle

    _one_of(stack=stack, manifest=manifest)
    if manifest is not None:
        outcome = lifecycle.down_manifest(manifest, progress, deps(ctx))
    else:
        assert stack is not None
        outcome = lifecycle.down_stack(stack, target, progress, deps(ctx), yes=yes)
    finish(outcome.record, fmt, outcome.exit_code, outcome.messages)


@app.command()
@handled
def run(
    ctx: typer.Context,
    release: Annotated[str, typer.Option(help="The release under test.")],
    target: TargetOpt = None,
    suite: Annotated[
        Path | None, typer.Option(help="The suite file.", show_default="suites/release.yaml")
    ] = None,
    ttl: TtlOpt = DEFAULT_TTL,
    out: Annotated[
        Path | None,
        typer.Option(help="Reports and manifest go here.", show_default="perfenv-results/<stack>"),
    ] = None,
    baseline: Annotated[
        str, typer.Option(help="auto (latest earlier release), a release, or none.")
    ] = "auto",
    keep_on_failure: Annotated[
        bool, typer.Option("--keep-on-failure", help="Keep a failed stack until its expiry.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Load generator worker instances, one Locust worker each (default: the "
            "suite's peak rate / load_generator.rate_per_worker).",
        ),
    ] = None,
    max_cost: MaxCostOpt = None,
    repeat: Annotated[
        int | None,
        typer.Option(min=1, help="Runs of each steady scenario (default: the suite's repeat)."),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """The ephemeral run: checks, up, suite, compare, and always teardown."""
    from perfenv.cli import lifecycle

    opts = lifecycle.RunOptions(
        release=release,
        target=target,
        suite=suite or root() / DEFAULT_SUITE,
        ttl=ttl,
        out_dir=out,
        baseline=baseline,
        keep_on_failure=keep_on_failure,
        workers=workers,
        max_cost=max_cost,
        repeat=repeat,
    )
    report = lifecycle.run(opts, progress, deps(ctx))
    finish(
        report.record(), fmt, report.exit_code, report.messages, columns=lifecycle.RECORD_COLUMNS
    )


@app.command()
@handled
def stacks(
    ctx: typer.Context,
    expired: Annotated[bool, typer.Option("--expired", help="Only expired stacks.")] = False,
    target: TargetOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Ephemeral stacks with release, age, expiry and heartbeat."""
    from perfenv.cli import lifecycle

    outcome = lifecycle.stacks(target, expired, deps(ctx))
    finish(outcome.record, fmt, outcome.exit_code, outcome.messages, columns=STACK_COLUMNS)


STACK_COLUMNS = [
    "stack",
    "target",
    "release",
    "owner",
    "status",
    "age",
    "expires_at",
    "expires_in",
    "heartbeat",
    "alive",
]


@app.command()
@handled
def reap(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", help="Destroy (default: list only).")] = False,
    target: TargetOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Destroy expired ephemeral stacks (a dry run without --yes)."""
    from perfenv.cli import lifecycle

    outcome = lifecycle.reap(target, yes, progress, deps(ctx))
    columns = ["stack", "release", "expires_at", "action"]
    finish(outcome.record, fmt, outcome.exit_code, outcome.messages, columns=columns)
