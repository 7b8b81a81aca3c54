"""A controller started before its spec exists: `up` starts it beside the program's evaluation,
so its own start (the interpreter, boto3, the autoscaler and alarm evaluator) overlaps the
worker's instead of following it.

`python -m perfenv.cli.targets.local.controller SPEC.json STACK` loads what the controller will
need, then waits for `up` to write SPEC.json (atomically: `write_spec`). It gives up, and exits
without starting anything, when the stack is no longer being created (the up failed, was
stopped or forgotten) or after `SPEC_TIMEOUT_S`.
"""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path

from perfenv.cli.targets.local import state

SPEC_POLL_S = 0.05
SPEC_TIMEOUT_S = 330.0  # longer than the worker may take (target.WORKER_TIMEOUT_S)
PRELOAD = (
    "boto3",
    "perfenv.cli.targets.local.realize",
    "perfenv.cli.targets.local.alarms.service",
    "perfenv.cli.targets.local.scaling.hooks",
)


def await_spec(spec_file: Path, stack: str) -> bool:
    """True once `spec_file` exists; False if the stack stopped being created first."""
    for name in PRELOAD:
        importlib.import_module(name)
    deadline = time.monotonic() + SPEC_TIMEOUT_S
    while time.monotonic() < deadline:
        if spec_file.exists():
            return True
        try:
            if state.load(stack).status != "creating":
                return False
        except Exception:  # forgotten, or a file being replaced: look again, or give up
            if not state.exists(stack):
                return False
        time.sleep(SPEC_POLL_S)
    return False


def write_spec(spec_file: Path, text: str) -> None:
    """Written whole or not at all: the waiting controller never reads half a spec."""
    partial = spec_file.with_name(spec_file.name + ".partial")
    partial.write_text(text)
    os.replace(partial, spec_file)
