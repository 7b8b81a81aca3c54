"""The Pulumi project perfenv works on, found as the Pulumi CLI finds it.

The project root is `$PERFENV_PROJECT` when set, else the nearest directory upward from the
current one that holds a `Pulumi.yaml` (or `Pulumi.yml`). Its `stackConfigDir` (default: the root)
holds the stack files; `$PERFENV_STACKS_DIR` overrides that one directory. Nothing is resolved
relative to the installed package: perfenv installed from a wheel works on the project you stand in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from perfenv.infra.errors import ConfigError

PROJECT_ENV = "PERFENV_PROJECT"
STACKS_DIR_ENV = "PERFENV_STACKS_DIR"
PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    stacks_dir: Path
    program: Path  # `main` of Pulumi.yaml: the directory (or file) Pulumi runs
    virtualenv: Path | None = None  # `runtime.options.virtualenv`, if set

    def stack_file(self, stack: str) -> Path:
        return self.stacks_dir / f"Pulumi.{stack}.yaml"


def _project_file(directory: Path) -> Path | None:
    for name in PROJECT_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def find_root(start: Path | None = None) -> Path:
    """`$PERFENV_PROJECT`, else the nearest directory upward holding a Pulumi.yaml."""
    override = os.environ.get(PROJECT_ENV)
    if override:
        root = Path(override).expanduser().resolve()
        if _project_file(root) is None:
            raise ConfigError(
                [f"{PROJECT_ENV}={override}: no Pulumi.yaml there (perfenv init DIR makes one)"]
            )
        return root
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if _project_file(directory) is not None:
            return directory
    raise ConfigError(
        [
            f"no Pulumi project: no Pulumi.yaml in {here} or any parent "
            "(perfenv init makes one here; or pass --project DIR)"
        ]
    )


def load_project(start: Path | None = None) -> Project:
    """The project around `start` (default: the current directory), with its stacks dir."""
    root = find_root(start)
    path = _project_file(root)
    assert path is not None
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError([f"{path}: (file): unreadable Pulumi project file ({exc})"]) from None
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: (top): not a mapping"])
    config_dir = data.get("stackConfigDir") or "."
    if not isinstance(config_dir, str):
        raise ConfigError([f"{path}: stackConfigDir: must be a path"])
    override = os.environ.get(STACKS_DIR_ENV)
    stacks = Path(override).expanduser() if override else root / config_dir
    runtime = data.get("runtime")
    options = runtime.get("options") if isinstance(runtime, dict) else None
    venv = options.get("virtualenv") if isinstance(options, dict) else None
    return Project(
        root=root,
        name=str(data.get("name") or root.name),
        stacks_dir=stacks,
        program=root / str(data.get("main") or "."),
        virtualenv=root / venv if isinstance(venv, str) else None,
    )


def stacks_dir() -> Path:
    """Where the current project's `Pulumi.<stack>.yaml` files are."""
    return load_project().stacks_dir
