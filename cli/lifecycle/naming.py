"""A run's names and tags (the stack name, its owner, the `perfenv:*` tags, its backend) and the
config its stack is made from (the template with the run's section and its load generator's
size)."""

from __future__ import annotations

import getpass
import os
import secrets
import string

from pydantic import ValidationError

from perfenv.cli.errors import BadInput
from perfenv.cli.lifecycle.deps import Deps
from perfenv.cli.project import home
from perfenv.cli.state.manifest import Manifest
from perfenv.cli.state.names import SUFFIX_LEN
from perfenv.cli.state.releases import release_slug
from perfenv.cli.state.store import Store
from perfenv.cli.state.urls import restore
from perfenv.cli.targets.base import Target
from perfenv.infra.config import RunConfig, StackFile
from perfenv.infra.tags import tag_value, team_of

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


def team(config: StackFile) -> str:
    """Who pays for an ephemeral run: `PERFENV_TEAM`, else the stack file's `perfenv:team`."""
    chosen = os.environ.get("PERFENV_TEAM") or team_of(config)
    try:
        RunConfig(team=chosen)
    except ValidationError:
        raise BadInput(
            f"PERFENV_TEAM: {chosen!r} is not a team name "
            "(lower-case letters, digits, '.', '_', '-'; at most 63)"
        ) from None
    return chosen


def run_tags(config: StackFile, stack: str, release: str, expires_at: str | None) -> dict[str, str]:
    """The `perfenv:*` tags every resource of `stack` carries."""
    environment = config.environment.name if config.environment else config.stack
    tags = {
        f"{TAG}project": PROJECT,
        f"{TAG}environment": environment,
        f"{TAG}stack": stack,
        f"{TAG}owner": owner(),
        # PERFENV_TEAM names a run's team; a long-lived stack's is its file's
        f"{TAG}team": team(config) if expires_at else team_of(config),
    }
    if release:
        tags[f"{TAG}release"] = release
    if expires_at:
        tags[f"{TAG}expires-at"] = expires_at
    return {key: tag_value(value) for key, value in tags.items()}


def with_run(
    config: StackFile,
    stack: str,
    release: str,
    expires_at: str | None,
    account: str | None = None,
    state_url: str | None = None,
) -> StackFile:
    """The template as `stack`'s config, with its `perfenv:run` section (the account its
    providers may act in, when the target named one; the state store its load generator
    exchanges plans and results through)."""
    run = RunConfig(
        release=release,
        owner=owner(),
        team=team(config),
        expires_at=expires_at,
        account=account,
        state_url=state_url,
    )
    return config.model_copy(update={"stack": stack, "run": run})


def sized_generator(config: StackFile, peak_rate: float, workers: int | None) -> StackFile:
    """The template with its load generator sized for the run: `--workers`, else enough
    workers for the suite's busiest second (`load_generator.workers_for`)."""
    env = config.environment
    if env is None:
        return config
    generator = env.load_generator
    count = generator.workers_for(peak_rate) if workers is None else workers
    sized = env.model_copy(
        update={"load_generator": generator.model_copy(update={"workers": count})}
    )
    return config.model_copy(update={"environment": sized})


def backend_of(target: Target) -> str:
    backend = getattr(target, "backend", None)
    if isinstance(backend, str) and backend:
        return backend
    return f"file://{home() / target.name}"


def target_for(manifest: Manifest, use: Deps) -> Target:
    """The target a run's manifest names, on its backend (the full URL from the environment
    when it names the same backend: the manifest records it without secrets), refusing any
    account but the one it recorded."""
    backend = restore(manifest.backend, os.environ.get("PULUMI_BACKEND_URL"))
    return use.target(manifest.target, backend=backend, account=manifest.account)


def recorded_store(manifest: Manifest, use: Deps) -> Store:
    """The state store that holds a run's registry entry (`PERFENV_STATE_URL` when it names
    the same one: the manifest records it without secrets)."""
    return use.store(restore(manifest.state_url, os.environ.get("PERFENV_STATE_URL")))
