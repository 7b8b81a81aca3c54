"""Where a stack lives: the `Target` protocol and its implementations (local, aws)."""

from __future__ import annotations

import os

from perfenv.cli.errors import BadInput
from perfenv.cli.targets.base import Target

TARGETS = ("local", "aws")
DEFAULT_TARGET = "local"


def target_name(name: str | None = None) -> str:
    """`--target`, else `PERFENV_TARGET`, else local."""
    chosen = name or os.environ.get("PERFENV_TARGET") or DEFAULT_TARGET
    if chosen not in TARGETS:
        raise BadInput(f"--target: expected one of {', '.join(TARGETS)}, got {chosen!r}")
    return chosen


def get_target(name: str | None = None, *, backend: str | None = None) -> Target:
    """The target named by `--target` / `PERFENV_TARGET` (default local).

    `backend`: where a run's manifest says its stack state lives (aws: a PULUMI_BACKEND_URL).
    """
    chosen = target_name(name)
    if chosen == "aws":
        from perfenv.cli.targets.aws import AwsTarget

        return AwsTarget(backend=backend)
    from perfenv.cli.targets.local import LocalTarget

    target: Target = LocalTarget()
    return target


def resolve_service_url(stack: str, target: str | None = None) -> str:
    """The `service_url` output of a stack that is up; BadInput if there is none.

    The target is the one the run registry recorded for the stack, else `--target` /
    `PERFENV_TARGET`. A stack whose kind is prod is refused: perfenv never sends load to it.
    """
    from perfenv.cli.state.manifest import Manifest, registry_key
    from perfenv.cli.state.store import open_store

    _refuse_prod(stack)
    recorded = open_store().get(registry_key(stack))
    name = Manifest.model_validate(recorded).target if recorded else target_name(target)
    outputs = get_target(name).outputs(stack)
    url = outputs.get("service_url")
    if not isinstance(url, str) or not url:
        raise BadInput(f"stack {stack}: no service_url output (is it up on target {name}?)")
    return url


def _refuse_prod(stack: str) -> None:
    from perfenv.cli.project import stack_file
    from perfenv.infra.config import ConfigError, load_stack_file

    path = stack_file(stack)
    if not path.exists():
        return
    try:
        env = load_stack_file(path).environment
    except ConfigError as exc:
        raise BadInput("\n".join(exc.lines)) from None
    if env is not None and env.kind == "prod":
        raise BadInput(f"{path.name}: kind: prod: perfenv never sends load to production")
