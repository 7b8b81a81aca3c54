"""Commands: `perfenv test` (run a suite against a URL or stack) and `perfenv compare`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from perfenv.cli.commands import app, console, deps, emit, handled, stderr
from perfenv.cli.errors import BadInput
from perfenv.cli.render import Format
from perfenv.cli.state.signals import interruptible

if TYPE_CHECKING:
    from rich.progress import Progress


class _Display:
    """A rich progress bar per scenario run on stderr, fed by the run's callbacks."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[tuple[str, int], Any] = {}

    def message(self, text: str) -> None:
        if text:
            self.progress.console.print(text)

    def tick(self, tick: Any) -> None:
        key = (tick.scenario, tick.attempt)
        if key not in self.tasks:
            label = tick.scenario + (f" {tick.attempt}/{tick.repeat}" if tick.repeat > 1 else "")
            self.tasks[key] = self.progress.add_task(label, total=tick.planned_s, info="")
        window = tick.window
        info = f"{window.sent}/{window.planned} req/s, {window.errors} errors"
        self.progress.update(self.tasks[key], completed=window.t + 1, info=info)


@app.command("test")
@handled
def test(
    ctx: typer.Context,
    suite: Annotated[Path, typer.Option("--suite", help="The suite file (YAML).")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the four result files.")],
    url: Annotated[
        str | None, typer.Option("--url", help="Base URL: loopback or in allowed_hosts.")
    ] = None,
    stack: Annotated[str | None, typer.Option("--stack", help="A stack that is up.")] = None,
    release: Annotated[
        str | None, typer.Option("--release", help="Store the results under this release.")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=0, help="Locust workers.")] = 0,
    repeat: Annotated[
        int | None,
        typer.Option(
            "--repeat", min=1, help="Runs of each steady scenario (default: the suite's repeat)."
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            help="auto, a release, a results.json, or none (default: auto with --release, "
            "else none).",
        ),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="How the verdict prints.")] = Format.table,
) -> None:
    """Run a suite, write results.json, junit.xml, summary.md and report.html, judge budgets."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from perfenv.cli.lifecycle import service_url, stack_probe, stack_telemetry
    from perfenv.cli.state.results import URL_TARGET
    from perfenv.cli.verdict.suite import load_suite

    if (url is None) == (stack is None):
        raise BadInput("give exactly one of --url or --stack")
    use = deps(ctx)
    loaded = load_suite(suite)
    base_url, kind = (url, URL_TARGET) if url is not None else service_url(stack or "", use)
    server = stack_telemetry(stack, use) if stack is not None else None
    probe = stack_probe(stack, use) if stack is not None else None
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"))
    with Progress(*columns, TimeRemainingColumn(), console=console(), transient=False) as bar:
        display = _Display(bar)
        # The same signal policy as a run: SIGINT/SIGTERM stop the generator's processes, exit 130.
        outcome = interruptible(
            "the suite",
            lambda: use.run_suite(
                loaded,
                base_url,
                out,
                release=release,
                workers=workers,
                repeat=repeat,
                baseline=baseline,
                target_kind=kind,
                progress=display.message,
                tick=display.tick,
                server=server,
                probe=probe,
            ),
        )
    from perfenv.cli.reports.markdown import verdict_rows

    emit(verdict_rows(outcome.results), fmt, title=f"{loaded.name}: {outcome.verdict}")
    if outcome.comparison and outcome.comparison["regressed"]:
        stderr.print(f"regression against {outcome.comparison['baseline']} (see summary.md)")
    stderr.print(f"results in {out}/: results.json, junit.xml, summary.md, report.html")
    raise typer.Exit(outcome.exit_code)


@app.command("compare")
@handled
def compare(
    baseline: Annotated[str, typer.Argument(help="A results.json (or its dir) or a release.")],
    candidate: Annotated[str, typer.Argument(help="A results.json (or its dir) or a release.")],
    fmt: Annotated[Format, typer.Option("--format", help="table, json or md.")] = Format.table,
) -> None:
    """Regression verdict between two results: exit 1 when the candidate regressed."""
    from perfenv.cli.compare import compare_specs, rows
    from perfenv.cli.errors import CHECK_FAILED, OK
    from perfenv.cli.state.store import open_store

    comparison = compare_specs(baseline, candidate, open_store())
    if fmt is Format.json:
        emit(comparison, fmt)
    else:
        verdict = "REGRESSED" if comparison["regressed"] else "no regression"
        title = f"{comparison['candidate']} vs {comparison['baseline']}: {verdict}"
        emit(rows(comparison), fmt, title=title)
    for note in comparison.get("skipped", []):
        stderr.print(f"skipped {note}")
    raise typer.Exit(CHECK_FAILED if comparison["regressed"] else OK)
