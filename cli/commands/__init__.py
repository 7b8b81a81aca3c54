"""The command layer: the only place that imports typer and rich.

Each module here registers its commands on `app` (or a sub-app) and keeps them thin: parse
options, call one core function, render, exit. `handled` turns expected errors into one line on
stderr and their exit code.

Importing the command layer stays light (typer and perfenv's small utilities): `perfenv --help`
and every `perfenv <command> --help` load nothing heavy. A command imports the core it calls
(pydantic, boto3, pulumi, matplotlib, Locust, yaml) in its body, and rich loads on first use of
`stderr`. Help is click's plain help (`rich_markup_mode=None`): typer's rich help alone loads
rich's markdown, traceback and table modules, more than typer itself.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer
import typer.core

from perfenv.cli.errors import BAD_INPUT, INTERNAL, INTERRUPTED, PerfenvError
from perfenv.cli.render import Format, render
from perfenv.infra.errors import ConfigError
from perfenv.infra.project import PROJECT_ENV

if TYPE_CHECKING:
    from rich.console import Console

    from perfenv.cli.lifecycle.deps import Deps


@functools.cache
def console() -> Console:
    """rich's Console on stderr, made on first use."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


class _Stderr:
    """`stderr.print(...)` and friends, on `console()` (for `with`, pass `console()` itself)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(console(), name)


stderr = cast("Console", _Stderr())


# A group's own `--help`, not given, is False (typer parses a bool without pydantic).
_NO_HELP: dict[str, Any] = {"default_map": {"help": False}}


class _Root(typer.core.TyperGroup):
    """perfenv's own options, parsed before every command without pydantic when not given.

    typer 0.29 coerces an option's value through a pydantic TypeAdapter, built on first use even
    for an option not given (a flag's absent value included): `perfenv <command> --help` would
    load pydantic for the root's `--help` and `--project`, more than typer itself. The root's
    `--help` defaults to False (a bool: typer skips it); `--project`, when the command comes
    first and PERFENV_PROJECT is unset, is None without being parsed."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer._click.Context
        # The root's options come before the command (no interspersed arguments): with a command
        # first, none was given.
        if PROJECT_ENV in os.environ or not args or args[0].startswith("-"):
            return super().parse_args(ctx, args)
        own = self.params
        self.params = [param for param in own if param.name != "project"]
        try:
            rest = super().parse_args(ctx, args)
        finally:
            self.params = own
        ctx.params["project"] = None
        return rest


app = typer.Typer(
    name="perfenv",
    help="Matched dev, staging and ephemeral perf environments, and the perf runs against them.",
    cls=_Root,
    context_settings=_NO_HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
cost_app = typer.Typer(
    help="Cost reports, estimates and the price table.",
    context_settings=_NO_HELP,
    no_args_is_help=True,
    rich_markup_mode=None,
)
local_app = typer.Typer(
    help="The embedded AWS emulator of the local target.",
    context_settings=_NO_HELP,
    no_args_is_help=True,
    rich_markup_mode=None,
)


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
    from perfenv.cli.lifecycle.deps import Deps

    given = ctx.find_object(Deps)
    return given if given is not None else Deps()


def emit(data: Any, fmt: Format, **kwargs: Any) -> None:
    """Data to stdout, rendered by the one render module."""
    typer.echo(render(data, fmt, **kwargs), nl=False)
