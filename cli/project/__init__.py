"""Where perfenv works: the project you stand in, and its `.perfenv/` (`PERFENV_HOME` overrides).

The project is found once by `perfenv.infra.project` (nearest `Pulumi.yaml` upward, or
`--project DIR` / `PERFENV_PROJECT`); suites, `.perfenv/` and the default out dirs are under it.
Nothing is resolved relative to the installed package.
"""

from __future__ import annotations

import os
from pathlib import Path

from perfenv.infra.errors import ConfigError
from perfenv.infra.project import Project, load_project

HOME_ENV = "PERFENV_HOME"


def project() -> Project:
    return load_project()


def root() -> Path:
    return project().root


def home() -> Path:
    """perfenv's local files: `$PERFENV_HOME`, else `<project>/.perfenv`."""
    override = os.environ.get(HOME_ENV)
    path = Path(override) if override else root() / ".perfenv"
    if path.exists() and not path.is_dir():
        shown = f"{HOME_ENV}={path}" if override else str(path)
        raise ConfigError([f"{shown}: not a directory (perfenv keeps its local files there)"])
    return path


def stacks_dir() -> Path:
    return project().stacks_dir


def stack_file(stack: str) -> Path:
    return project().stack_file(stack)


def perf_template() -> Path:
    """The template every ephemeral perf stack is made from."""
    return stack_file("perf")
