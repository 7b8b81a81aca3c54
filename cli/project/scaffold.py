"""`perfenv init [DIR]`: a Pulumi project that perfenv works on at once.

What it writes is this repository's own project: the program shim (`__main__.py`), the stack
files, the example suites and the CI workflow. They ship in the package as `template/` (links to
the repo's files in the checkout, their contents in the wheel), so there is one copy of each.
The project's `Pulumi.yaml` is written here; the default local app is the reference service that
ships in the package (`app.local_command`), so nothing of it is copied.
"""

from __future__ import annotations

import re
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from perfenv.infra.errors import ConfigError
from perfenv.infra.project import PROJECT_FILES

TEMPLATE = files(__package__) / "template"
GITIGNORE = ".gitignore"
# Template files whose place in the project differs from their place in the template.
PLACES = {"gitignore": GITIGNORE, "perf-release.yml": ".github/workflows/perf-release.yml"}
_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def pulumi_yaml(name: str) -> str:
    return (
        f"name: {name}\n"
        "runtime: python\n"
        "stackConfigDir: stacks\n"
        "description: Matched dev, staging and ephemeral perf environments (perfenv)\n"
    )


def project_name(directory: Path) -> str:
    """The directory's name as a Pulumi project name (letters, digits, `_`, `.`, `-`)."""
    return _NOT_IN_NAME.sub("-", directory.name).strip("-.") or "perfenv-project"


def _template_files(node: Traversable, prefix: str = "") -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        path = f"{prefix}{child.name}"
        if child.is_dir():
            found |= _template_files(child, f"{path}/")
        else:
            found[PLACES.get(path, path)] = child.read_bytes()
    return found


def contents(directory: Path) -> dict[str, bytes]:
    """Project-relative path -> the bytes `init` writes there."""
    written = _template_files(TEMPLATE)
    written["Pulumi.yaml"] = pulumi_yaml(project_name(directory)).encode()
    return written


def _merged_gitignore(path: Path, ours: bytes) -> bytes:
    """Ours, or an existing `.gitignore` with the patterns of ours that it lacks appended."""
    if not path.is_file():
        return ours
    theirs = path.read_bytes()
    present = {line.strip() for line in theirs.splitlines()}
    missing = [
        p for p in ours.splitlines() if p.strip() and not p.startswith(b"#") and p not in present
    ]
    if not missing:
        return theirs
    return theirs.rstrip(b"\n") + b"\n# perfenv\n" + b"".join(p + b"\n" for p in missing)


def init(directory: Path) -> list[Path]:
    """Write a new project into `directory` (made if missing); the paths written, in order.

    Refuses, before writing anything, a directory that already holds a Pulumi project or a file
    that `init` would write: it never overwrites. An existing `.gitignore` gets the lines of ours
    that it lacks.
    """
    directory = directory.expanduser().resolve()
    for name in PROJECT_FILES:
        if (directory / name).exists():
            raise ConfigError(
                [f"{directory / name}: already a Pulumi project (perfenv init makes a new one)"]
            )
    planned = contents(directory)
    planned[GITIGNORE] = _merged_gitignore(directory / GITIGNORE, planned[GITIGNORE])
    taken = [rel for rel in planned if rel != GITIGNORE and (directory / rel).exists()]
    if taken:
        raise ConfigError([f"{directory / taken[0]}: exists; perfenv init never overwrites a file"])
    written = []
    for rel, data in sorted(planned.items()):
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written
