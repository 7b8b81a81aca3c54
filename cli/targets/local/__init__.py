"""The `local` target: stacks realized in an embedded moto server, apps as local processes.

`LocalTarget` loads when first asked for: the stack's own processes (controller, balancers)
import their modules from this package and need none of the target's imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perfenv.cli.targets.local.target import LocalTarget

__all__ = ["LocalTarget"]


def __getattr__(name: str) -> Any:
    if name == "LocalTarget":
        from perfenv.cli.targets.local.target import LocalTarget

        return LocalTarget
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
