"""Commands: `perfenv history` (a suite's releases, change points, trend)."""

from __future__ import annotations

from typing import Annotated

import typer

from perfenv.cli.commands import app, emit, handled
from perfenv.cli.errors import BadInput
from perfenv.cli.render import Format


@app.command("history")
@handled
def history(
    suite: Annotated[str, typer.Option("--suite", help="The suite's name (as in its file).")],
    metric: Annotated[str, typer.Option("--metric", help="p50, p95, p99 or error_rate.")] = "p95",
    target: Annotated[
        str | None,
        typer.Option("--target", help="local, aws or url (default: where the suite last ran)."),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table, json or html.")] = Format.table,
) -> None:
    """Every stored release of a suite in order, with change points and the trend check."""
    from perfenv.cli.compare.history import METRICS, history, rows
    from perfenv.cli.state.store import open_store

    if metric not in METRICS:
        raise BadInput(f"--metric: one of {', '.join(METRICS)} (got {metric!r})")
    doc = history(open_store(), suite, target=target, metric=metric)
    if not doc["scenarios"]:
        raise BadInput(f"no results of suite {suite!r} on {doc['target']} in the state store")
    if fmt is Format.html:
        from perfenv.cli.reports.history import history_page

        typer.echo(history_page(doc), nl=False)
    elif fmt is Format.json:
        emit(doc, fmt)
    else:
        trends = [f"{s['scenario']}: {s['trend']['text']}" for s in doc["scenarios"] if s["trend"]]
        emit(rows(doc), fmt, title=f"{suite} on {doc['target']}: {metric} by release")
        for line in trends:
            typer.echo(f"trend {line}")


@app.command("capacity")
@handled
def capacity(
    release: Annotated[str, typer.Option("--release", help="A release stored with a stress run.")],
    suite: Annotated[str | None, typer.Option("--suite", help="Its suite (default: any).")] = None,
    stack: Annotated[
        str | None,
        typer.Option("--stack", help="The stack config to size (default: the perf template)."),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """The capacity model from a release's stored stress results and the stack's config."""
    from perfenv.cli.compare.capacity import stored_capacity
    from perfenv.cli.errors import CHECK_FAILED
    from perfenv.cli.state.store import open_store
    from perfenv.cli.verdict.capacity import capacity_lines, gate_failed

    model = stored_capacity(open_store(), release, suite, stack)
    if fmt is Format.json:
        emit(model, fmt)
    else:
        title = f"capacity of release {release}: {model['verdict']}"
        emit([{"capacity": line} for line in capacity_lines(model)], fmt, title=title)
    if gate_failed(model):
        raise typer.Exit(CHECK_FAILED)
