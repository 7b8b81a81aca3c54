"""Where a stack lives: the `Target` protocol and its implementations (local, aws)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from perfenv.cli.errors import BadInput

if TYPE_CHECKING:  # a stack's own processes import this package's modules: keep it light
    from perfenv.cli.targets.base import Target

TARGETS = ("local", "aws")
DEFAULT_TARGET = "local"


def target_name(name: str | None = None) -> str:
    """`--target`, else `PERFENV_TARGET`, else local."""
    chosen = name or os.environ.get("PERFENV_TARGET") or DEFAULT_TARGET
    if chosen not in TARGETS:
        raise BadInput(f"--target: expected one of {', '.join(TARGETS)}, got {chosen!r}")
    return chosen


def get_target(
    name: str | None = None, *, backend: str | None = None, account: str | None = None
) -> Target:
    """The target named by `--target` / `PERFENV_TARGET` (default local).

    `backend`: where a run's manifest says its stack state lives (aws: a PULUMI_BACKEND_URL).
    `account`: the cloud account the manifest recorded; the target refuses any other.
    """
    chosen = target_name(name)
    if chosen == "aws":
        from perfenv.cli.targets.aws import AwsTarget

        return AwsTarget(backend=backend, account=account)
    from perfenv.cli.targets.local import LocalTarget

    target: Target = LocalTarget()
    return target
