"""Stack files as the cost commands read them: by name; an ephemeral `perf-*` reads the template."""

from __future__ import annotations

from pathlib import Path

from perfenv.cli.errors import BadInput
from perfenv.cli.state.names import check_stack_name
from perfenv.infra.config import (
    StackFile,
    default_stacks_dir,
    load_all,
    load_stack_file,
)

PERF_TEMPLATE = "perf"


def stack_file(stack: str, stacks_dir: Path | None = None) -> StackFile:
    """`stacks/Pulumi.<stack>.yaml`; an ephemeral `perf-*` stack reads the perf template."""
    stacks_dir = stacks_dir or default_stacks_dir()
    path = stacks_dir / f"Pulumi.{check_stack_name(stack)}.yaml"
    if not path.exists() and stack.startswith(f"{PERF_TEMPLATE}-"):
        path = stacks_dir / f"Pulumi.{PERF_TEMPLATE}.yaml"
    return load_stack_file(path)


def environment_stack(stack: str, stacks_dir: Path | None = None) -> StackFile:
    found = stack_file(stack, stacks_dir)
    if found.environment is None:
        raise BadInput(
            f"{found.path.name}: config: {stack} is not an environment stack "
            "(no perfenv:environment to price)"
        )
    return found


def all_stack_files(stacks_dir: Path | None = None) -> list[StackFile]:
    return load_all(stacks_dir)
