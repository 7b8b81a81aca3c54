"""A run's names and tags: the stack name, its owner, the `perfenv:*` tags, its backend."""

from __future__ import annotations

import getpass
import os
import secrets
import string

from perfenv.cli.lifecycle.deps import Deps
from perfenv.cli.project import home
from perfenv.cli.state.manifest import Manifest
from perfenv.cli.state.names import SUFFIX_LEN
from perfenv.cli.state.releases import release_slug
from perfenv.cli.targets.base import Target
from perfenv.infra.config import RunConfig, StackFile

PROJECT = "perfenv"
TAG = "perfenv:"
_SUFFIX = string.ascii_lowercase + string.digits


def new_stack_name(release: str) -> str:
    """`perf-<release-slug>-<6 random [a-z0-9]>`."""
    suffix = "".join(secrets.choice(_SUFFIX) for _ in range(SUFFIX_LEN))
    return f"perf-{release_slug(release)}-{suffix}"


def owner() -> str:
    if os.environ.get("PERFENV_OWNER"):
        return os.environ["PERFENV_OWNER"]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def run_tags(config: StackFile, stack: str, release: str, expires_at: str | None) -> dict[str, str]:
    """The `perfenv:*` tags every resource of `stack` carries."""
    environment = config.environment.name if config.environment else config.stack
    tags = {
        f"{TAG}project": PROJECT,
        f"{TAG}environment": environment,
        f"{TAG}stack": stack,
        f"{TAG}owner": owner(),
    }
    if release:
        tags[f"{TAG}release"] = release
    if expires_at:
        tags[f"{TAG}expires-at"] = expires_at
    return tags


def with_run(config: StackFile, stack: str, release: str, expires_at: str | None) -> StackFile:
    """The template as `stack`'s config, with its `perfenv:run` section."""
    run = RunConfig(release=release, owner=owner(), expires_at=expires_at)
    return config.model_copy(update={"stack": stack, "run": run})


def backend_of(target: Target) -> str:
    backend = getattr(target, "backend", None)
    if isinstance(backend, str) and backend:
        return backend
    return f"file://{home() / target.name}"


def target_for(manifest: Manifest, use: Deps) -> Target:
    return use.target(manifest.target, backend=manifest.backend)
