"""Commands: `perfenv local status|stop`, the embedded AWS emulator of the local target."""

from __future__ import annotations

from typing import Annotated

import typer

from perfenv.cli.commands import emit, handled, local_app, stderr
from perfenv.cli.render import Format

FormatOpt = Annotated[Format, typer.Option("--format", help="Output format.")]


@local_app.command()
@handled
def status(fmt: FormatOpt = Format.table) -> None:
    """The emulator's endpoint and pid (empty when it is not running) and the stacks it holds."""
    from perfenv.cli.targets.local import emulator

    emit(emulator.status(), fmt)


@local_app.command()
@handled
def stop(
    force: Annotated[
        bool, typer.Option("--force", help="Stop even with stacks up, forgetting them.")
    ] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Stop the emulator. Refuses while stacks are up (their resources live in its memory)."""
    from perfenv.cli.targets.local import emulator

    result = emulator.stop(force=force)
    if result["forgotten"]:
        stderr.print(f"forgot stacks: {', '.join(result['forgotten'])}", markup=False)
    emit(result, fmt)
