"""The command layer: the only place that imports typer and rich.

Each module here registers its commands on `app` (or a sub-app) and keeps them thin: parse
options, call one core function, render, exit. `handled` turns expected errors into one line on
stderr and their exit code.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from perfenv.cli.errors import BAD_INPUT, INTERNAL, INTERRUPTED, PerfenvError
from perfenv.cli.lifecycle.deps import Deps
from perfenv.cli.render import Format, render
from perfenv.infra.errors import ConfigError
from perfenv.infra.project import PROJECT_ENV

stderr = Console(stderr=True, highlight=False)

app = typer.Typer(
    name="perfenv",
    help="Matched dev, staging and ephemeral perf environments, and the perf runs against them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
cost_app = typer.Typer(help="Cost reports, estimates and the price table.", no_args_is_help=True)
local_app = typer.Typer(help="The embedded AWS emulator of the local target.", no_args_is_help=True)


@app.callback()
def _project(
    project: Annotated[
        Path | None,
        typer.Option(
            "--project",
            envvar=PROJECT_ENV,
            help="The Pulumi project (default: the nearest Pulumi.yaml upward from here).",
        ),
    ] = None,
) -> None:
    # Through the environment, so every process perfenv starts works on the same project.
    if project is not None:
        os.environ[PROJECT_ENV] = str(project.expanduser().resolve())


app.add_typer(cost_app, name="cost")
app.add_typer(local_app, name="local")

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int) -> typer.Exit:
    """Print one `perfenv: ...` line on stderr; return the Exit to raise."""
    for line in message.splitlines() or [message]:
        typer.echo(f"perfenv: {line}", err=True)
    return typer.Exit(code)


def handled(func: F) -> F:
    """Expected errors: one line and their exit code. Bugs: a traceback without locals, 70."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PerfenvError as exc:
            raise fail(str(exc), exc.exit_code) from None
        except ConfigError as exc:  # bad stack config or project: `file: field: message` lines
            raise fail("\n".join(exc.lines), BAD_INPUT) from None
        except KeyboardInterrupt:
            raise fail("interrupted", INTERRUPTED) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception:  # a bug: say so, with a traceback that holds no locals
            traceback.print_exc(file=sys.stderr)
            raise fail("internal error (a bug): please report it", INTERNAL) from None

    return wrapper  # type: ignore[return-value]


def deps(ctx: typer.Context) -> Deps:
    """What the lifecycle calls out to: the `obj` the app was invoked with, else the real ones.

    Tests pass fakes as `CliRunner().invoke(app, args, obj=Deps(...))`.
    """
    given = ctx.find_object(Deps)
    return given if given is not None else Deps()


def emit(data: Any, fmt: Format, **kwargs: Any) -> None:
    """Data to stdout, rendered by the one render module."""
    typer.echo(render(data, fmt, **kwargs), nl=False)
