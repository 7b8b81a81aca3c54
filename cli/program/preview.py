"""`perfenv preview`: evaluate a stack's program under mocks and list what it would create."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from perfenv.cli.state.names import check_stack_name
from perfenv.infra.config import StackFile, default_stacks_dir, load_stack_file

TABLE_INPUTS_WIDTH = 80


def load_stack(name: str, stacks_dir: Path | None = None) -> StackFile:
    check_stack_name(name)
    return load_stack_file((stacks_dir or default_stacks_dir()) / f"Pulumi.{name}.yaml")


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def _urn_name(urn: str | None) -> str | None:
    if not urn or urn.endswith("::" + "pulumi:pulumi:Stack") or "pulumi:pulumi:Stack::" in urn:
        return None
    return urn.rsplit("::", 1)[-1]


def preview(
    name: str, stacks_dir: Path | None = None, *, warn: Callable[[str], None] | None = None
) -> list[dict[str, Any]]:
    """Every resource the stack's program registers, in creation order.

    The policy rules judge them: a mandatory violation is BadInput (exit 2), one line each;
    `warn` gets the advisory ones.
    """
    from perfenv.cli.program.evaluate import evaluate, to_jsonable
    from perfenv.cli.program.policies import enforce, violations

    stack = load_stack(name, stacks_dir)
    evaluation = evaluate(stack, name, stacks_dir=stacks_dir)
    enforce(violations(evaluation), warn or _stderr)
    return [
        {
            "type": r.type,
            "name": r.name,
            "parent": _urn_name(r.parent),
            "urn": r.urn,
            "custom": r.custom,
            "inputs": to_jsonable(r.inputs),
        }
        for r in evaluation.resources
    ]


def table_rows(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The table view: inputs as one shortened line."""
    rows = []
    for r in resources:
        text = json.dumps(r["inputs"], sort_keys=True)
        if len(text) > TABLE_INPUTS_WIDTH:
            text = text[: TABLE_INPUTS_WIDTH - 3] + "..."
        rows.append({"type": r["type"], "name": r["name"], "parent": r["parent"], "inputs": text})
    return rows
