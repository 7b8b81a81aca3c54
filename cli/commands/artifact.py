"""Commands: `perfenv artifact build | publish` (perfenv's runtime tarball, ADR 0040)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from perfenv.cli.commands import app, handled, stderr

artifact_app = typer.Typer(
    help="perfenv's runtime tarball, the default app.artifact of the aws target.",
    context_settings={"default_map": {"help": False}},
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(artifact_app, name="artifact")


@artifact_app.command("build")
@handled
def build(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the tarball into.")] = Path(
        "dist"
    ),
    source: Annotated[
        Path | None,
        typer.Option(
            "--source", help="perfenv's source (default: the checkout of this editable install)."
        ),
    ] = None,
    no_deps: Annotated[
        bool,
        typer.Option(
            "--no-deps",
            help="perfenv's wheel alone, no package index asked: for tests and offline checks "
            "(an instance cannot install it without the dependencies).",
        ),
    ] = False,
) -> None:
    """Write perfenv-runtime-<version>.tar.gz: perfenv's wheel and its dependencies' wheels."""
    from perfenv.cli.targets.aws.artifact import build as build_tarball

    with stderr.status("building wheels..."):
        path = build_tarball(out, source=source, deps=not no_deps)
    typer.echo(str(path))


@artifact_app.command("publish")
@handled
def publish(
    stack: Annotated[str, typer.Option("--stack", help="Stack whose app.artifact URI to fill.")],
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", help="The tarball (default: dist/perfenv-runtime-<version>.tar.gz)."
        ),
    ] = None,
) -> None:
    """Upload the runtime tarball to the stack's artifact URI (account and region resolved)."""
    from perfenv.cli.program.preview import load_stack
    from perfenv.cli.targets.aws.artifact import file_name
    from perfenv.cli.targets.aws.artifact import publish as publish_tarball
    from perfenv.cli.targets.aws.clients import boto_client

    uri = publish_tarball(load_stack(stack), file or Path("dist") / file_name(), boto_client)
    typer.echo(uri)
