"""Entry point of the `perfenv` command."""

from __future__ import annotations

# Importing each command module registers its commands on the shared app.
from perfenv.cli.commands import app
from perfenv.cli.commands import artifact as _artifact  # noqa: F401
from perfenv.cli.commands import config as _config  # noqa: F401
from perfenv.cli.commands import cost as _cost  # noqa: F401
from perfenv.cli.commands import gate as _gate  # noqa: F401
from perfenv.cli.commands import init as _init  # noqa: F401
from perfenv.cli.commands import lifecycle as _lifecycle  # noqa: F401
from perfenv.cli.commands import local as _local  # noqa: F401
from perfenv.cli.commands import suite as _suite  # noqa: F401
from perfenv.cli.detached import end_process

__all__ = ["app", "main"]


def main() -> None:
    try:
        app()
    except SystemExit as exc:  # how click ends every command
        end_process(exc.code)


if __name__ == "__main__":
    main()
