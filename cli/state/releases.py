"""Release names as CI passes them: any git tag or branch name (`release/1.2.3`, `1.2.3+b.7/rc-1`).

One name, four uses: shown as given (reports, the manifest); slugged for the stack name
(`release_slug`); encoded as one store-key segment (`release_key`, and `release_from_key` back);
ordered by the version it carries (`version_key`: `release/1.2.3` sorts as 1.2.3).

`release_key` is `perfenv.cli.state.results.segment` (the store's one encoding of a name into a
key segment: percent-encoding outside `[A-Za-z0-9._+-~]`, and a leading `.`), so the names the
first version of perfenv accepted (`^[A-Za-z0-9][A-Za-z0-9._+-]*$`, no `..`) encode to
themselves: a store written by it stays readable. Only a name that cannot be made safe is refused:
empty, longer than 200 characters, holding a control or unencodable character, or without an
ASCII letter or digit to make a stack name from.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import unquote

from perfenv.cli.errors import BadInput
from perfenv.cli.state.names import SLUG_MAX
from perfenv.cli.state.results import segment

MAX_LEN = 200
_VERSION = re.compile(
    r"(?<![0-9A-Za-z.])v?(\d{1,9})\.(\d{1,9})(?:\.(\d{1,9}))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)
VersionKey = tuple[int, int, int, int, tuple[Any, ...]]


def check_release(release: str, what: str = "--release") -> str:
    """`release`, as given, unless it cannot be made safe; BadInput (exit 2) then."""
    problem = _problem(release)
    if problem:
        raise BadInput(f"{what}: {release!r}: {problem}")
    return release


def _problem(release: object) -> str:
    if not isinstance(release, str) or not release:
        return "empty"
    if len(release) > MAX_LEN:
        return f"longer than {MAX_LEN} characters"
    if any(unicodedata.category(ch).startswith("C") for ch in release):
        return "holds a control or unprintable character"
    if not _slug(release):
        return "has no ASCII letter or digit to name a stack after"
    return ""


def _slug(release: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", release.lower()).strip("-")
    return slug[:SLUG_MAX].strip("-")


def release_slug(release: str) -> str:
    """`release/1.2.3` -> `release-1-2-3`: at most 20 of [a-z0-9-], for the stack name."""
    return _slug(check_release(release))


def release_key(release: str) -> str:
    """One store-key segment for `release` (no `/`, never `.` or `..`); reversible."""
    return segment(check_release(release))


def release_from_key(key: str) -> str:
    """The release a store-key segment names (`release_key` reversed)."""
    return unquote(key)


def version_key(release: str) -> VersionKey | None:
    """The semantic version the name carries, as a sort key (a pre-release sorts before its
    release; build metadata does not count); None when it carries none."""
    match = _VERSION.search(release)
    if not match:
        return None
    major, minor, patch, pre = match.groups()
    pre_key: tuple[Any, ...] = ()
    if pre:
        pre_key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (int(major), int(minor), int(patch or 0), 0 if pre else 1, pre_key)
