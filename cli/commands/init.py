"""Command: `perfenv init [DIR]`, a new Pulumi project that perfenv works on at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from perfenv.cli.commands import app, emit, handled, stderr
from perfenv.cli.render import Format


@app.command("init")
@handled
def init(
    directory: Annotated[
        Path, typer.Argument(help="Where to make the project (made if missing).")
    ] = Path("."),
    fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """Make a project: Pulumi.yaml, the program shim, stacks/, suites/, .gitignore, CI workflow."""
    from perfenv.cli.project.scaffold import init as scaffold

    written = scaffold(directory)
    root = directory.expanduser().resolve()
    emit([{"file": str(path.relative_to(root))} for path in written], fmt, columns=["file"])
    stderr.print(
        f"perfenv project in {root}; next: perfenv validate, perfenv preview --stack perf, "
        "perfenv run --release 1.0.0 --suite suites/smoke.yaml",
        markup=False,
        soft_wrap=True,
    )
