"""The one error of the config layer: bad stack config or project, as `file: field: message`."""

from __future__ import annotations


class ConfigError(ValueError):
    """Bad stack config. `lines` are `file: field: message`, one per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines
