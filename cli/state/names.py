"""Names that cannot escape: the one stack-name validator, and paths built from names.

A stack name enters perfenv through CLI options, manifests, the run registry and a target's
stack list; each entry point checks it here. A long-lived stack's name is its stack file's
(`Pulumi.<name>.yaml`), spelled as Pulumi allows (letters, digits, `-`, `_`, `.`, at most 100,
starting with a letter or digit); an ephemeral one is `perf-<release slug>-<6 [a-z0-9]>`.
Neither can hold `/` or be `.`/`..`, and every path built from a name is checked by `inside`.
"""

from __future__ import annotations

import re
from pathlib import Path

from perfenv.cli.errors import BadInput

_STACK = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
SLUG_MAX = 20
SUFFIX_LEN = 6
_EPHEMERAL = re.compile(rf"perf-([a-z0-9-]{{1,{SLUG_MAX}}})-[a-z0-9]{{{SUFFIX_LEN}}}")


def valid_stack_name(name: object) -> bool:
    return isinstance(name, str) and _STACK.fullmatch(name) is not None


def check_stack_name(name: str, what: str = "--stack") -> str:
    """`name` if it is a stack name; else BadInput (exit 2) naming where it came from."""
    if not valid_stack_name(name):
        raise BadInput(
            f"{what}: {name!r} is not a stack name (letters, digits, '-', '_', '.'; "
            "at most 100; starting with a letter or digit)"
        )
    return name


def is_ephemeral_name(name: object) -> bool:
    """The shape perfenv gives the stacks it makes: `perf-<slug>-<6 [a-z0-9]>`."""
    if not isinstance(name, str):
        return False
    match = _EPHEMERAL.fullmatch(name)
    if match is None:
        return False
    slug = match.group(1)
    return not (slug.startswith("-") or slug.endswith("-") or "--" in slug)


def inside(parent: Path, *parts: str) -> Path:
    """`parent/parts...` resolved, refused (BadInput) unless strictly inside `parent`."""
    base = parent.resolve()
    path = base.joinpath(*parts).resolve()
    if path == base or not path.is_relative_to(base):
        shown = "/".join(parts)
        raise BadInput(f"{shown!r}: a path that escapes {parent} (refused)")
    return path
