"""Commands on the stack configs: `perfenv validate`, `perfenv parity`, `perfenv preview`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from perfenv.cli.commands import app, emit, handled, stderr
from perfenv.cli.errors import CheckFailed
from perfenv.cli.render import Format

StacksDir = Annotated[
    Path | None,
    typer.Option(
        "--stacks-dir",
        envvar="PERFENV_STACKS_DIR",
        help="Directory of the Pulumi.<stack>.yaml files (default: the checkout's stacks/).",
    ),
]
FormatOpt = Annotated[Format, typer.Option("--format", help="table, json or md.")]


@app.command("validate")
@handled
def validate(
    stack: Annotated[
        list[str] | None, typer.Option("--stack", help="Only these stacks (repeatable).")
    ] = None,
    stacks_dir: StacksDir = None,
    policies: Annotated[
        bool, typer.Option("--policies", help="Also the policy rules over each stack's program.")
    ] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Validate stack configs, cross-stack rules and suites; exit 2 naming file and field."""
    from perfenv.cli.program.validate import validate as run_validate

    result = run_validate(stack or [], stacks_dir=stacks_dir, policies=policies)
    for warning in result.warnings:
        stderr.print(f"warning: {warning}", markup=False)
    emit(result.rows(), fmt, columns=["file", "stack", "kind"])
    stderr.print(f"valid: {len(result.stacks)} stack file(s), {len(result.suites)} suite(s)")


@app.command("parity")
@handled
def parity(
    reference: Annotated[str, typer.Option("--reference", help="The stack to match.")] = "staging",
    stack: Annotated[str, typer.Option("--stack", help="The stack to check.")] = "perf",
    stacks_dir: StacksDir = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Perf vs reference: same components, resource types and rules; only scale may differ."""
    from perfenv.cli.program.parity import parity as run_parity

    report = run_parity(reference, stack, stacks_dir=stacks_dir)
    emit(report.rows(), fmt, columns=report.columns())
    if not report.ok:
        raise CheckFailed("\n".join(report.lines()))
    stderr.print(report.summary())


@app.command("preview")
@handled
def preview(
    stack: Annotated[str, typer.Option("--stack", help="The stack to evaluate.")],
    stacks_dir: StacksDir = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Evaluate the program under mocks; list every resource (type, name, parent, inputs)."""
    from perfenv.cli.program.preview import preview as run_preview
    from perfenv.cli.program.preview import table_rows

    resources = run_preview(stack, stacks_dir, warn=lambda line: stderr.print(line, markup=False))
    if fmt is Format.json:
        emit(resources, fmt)
    else:
        emit(table_rows(resources), fmt, columns=["type", "name", "parent", "inputs"])
    stderr.print(f"{len(resources)} resources in stack {stack}")
