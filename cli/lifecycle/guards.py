"""The refusals before anything is touched: production, and intent on long-lived stacks.

`not_production` is THE production check of `up`, `down`, `test --stack` and `run`. It fails
closed: a stack is known not to be production only by its own stack file in the project's
configured stacks dir (`perfenv.cli.project`), or by the marks perfenv gives the ephemeral stacks
it makes from the (checked) perf template. A stack with neither is refused, never assumed safe.
"""

from __future__ import annotations

from pathlib import Path

from perfenv.cli.errors import BadInput
from perfenv.cli.project import stack_file, stacks_dir
from perfenv.cli.state.names import check_stack_name
from perfenv.infra.config import StackFile, load_stack_file


def not_production(
    stack: str, *, ephemeral: bool = False, path: Path | None = None
) -> StackFile | None:
    """The stack's file (`path`, else `Pulumi.<stack>.yaml`), refused if its kind is prod.

    `ephemeral`: the caller found perfenv's ephemeral marks on `stack`; it then needs no file of
    its own (None is returned). Without them, a stack with no stack file is refused (exit 2).
    A stack file that does not load is a ConfigError (exit 2): refused too.
    """
    path = path or stack_file(check_stack_name(stack))
    if not path.exists():
        if ephemeral:
            return None
        raise BadInput(
            f"{stack}: no stack file {path.name} in {stacks_dir()}: perfenv cannot tell it is "
            "not production, so it does not touch it"
        )
    config = load_stack_file(path)
    if config.environment is not None and config.environment.kind == "prod":
        raise BadInput(f"{path.name}: kind: prod: perfenv never touches production")
    return config


def require_intent(stack: str, *, ephemeral: bool, yes: bool) -> None:
    """Destroying a long-lived stack (one without the ephemeral marks) needs `--yes`."""
    if not ephemeral and not yes:
        raise BadInput(
            f"{stack}: a long-lived stack; destroying it needs intent: "
            f"perfenv down --stack {stack} --yes"
        )
