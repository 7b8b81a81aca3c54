"""The Pulumi program: what `pulumi up` runs for a stack of this project."""

from __future__ import annotations

import pulumi

from infra.config import COST_KEY, ENVIRONMENT_KEY, RUN_KEY, default_stacks_dir, parse_config
from infra.program import build

_config = pulumi.Config("perfenv")
_raw = {
    key: value
    for key, value in (
        (ENVIRONMENT_KEY, _config.get_object("environment")),
        (COST_KEY, _config.get_object("cost")),
        (RUN_KEY, _config.get_object("run")),
    )
    if value is not None
}
_stack = pulumi.get_stack()
build(parse_config(default_stacks_dir() / f"Pulumi.{_stack}.yaml", _raw), _stack)
