"""The run manifest: what a run created and where, so that anyone can finish its teardown.

Written to the state store (`runs/<stack>.json`, the run registry) and to the run's out dir
before anything is created (`perfenv.cli.state.writer`). The process that owns the run (its
`pid` on `host`) refreshes `heartbeat`; `perfenv reap` and a second `down` skip a run whose
heartbeat is fresh, and `perfenv down --manifest FILE` finishes a run that a cancelled job left.

A manifest only ever names an ephemeral stack (`perf-<slug>-<6>`), and the URLs it records carry
no user info or query (`perfenv.cli.state.urls`).
"""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from perfenv.cli.durations import env_seconds
from perfenv.cli.errors import BadInput
from perfenv.cli.state.names import is_ephemeral_name
from perfenv.cli.state.store import CorruptRecord, Store
from perfenv.cli.state.urls import redact_url
from perfenv.infra.files import TooLarge, read_text

MANIFEST_NAME = "manifest.json"
HEARTBEAT_EVERY_S = env_seconds("PERFENV_HEARTBEAT_S", 15.0)
# A heartbeat older than this belongs to a process that is gone (or hung).
STALE_AFTER_S = env_seconds("PERFENV_HEARTBEAT_STALE_S", 6 * HEARTBEAT_EVERY_S)
MAX_FILE_BYTES = 1 << 20  # a manifest is a few hundred bytes; more is not one

Status = Literal[
    "creating",  # manifest written, target.up running
    "up",  # stack up, no process owns it (perfenv up)
    "testing",  # the suite is running against it
    "tearing-down",
    "kept",  # --keep-on-failure: left up until its expiry
    "leaked",  # teardown left resources (or could not record its end): for reap / down
    "abandoned",  # a second SIGINT stopped the teardown
    "done",  # destroyed and removed (only the out dir copy says so)
]
RUNNING: frozenset[str] = frozenset({"creating", "testing", "tearing-down"})


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def registry_key(stack: str) -> str:
    return f"runs/{stack}.json"


class Manifest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # newer perfenv versions may add fields

    stack: str
    target: str
    backend: str  # where the target keeps the stack's state (PULUMI_BACKEND_URL, local dir)
    state_url: str  # the state store that holds this manifest in its registry
    release: str
    tags: dict[str, str]
    created_at: str
    expires_at: str | None
    heartbeat: str
    status: Status = "creating"
    out_dir: str | None = None
    pid: int | None = None
    host: str = ""
    service_url: str | None = None
    account: str | None = None  # the cloud account the stack was created in (aws)
    note: str = ""

    @field_validator("stack")
    @classmethod
    def _ephemeral(cls, stack: str) -> str:
        if not is_ephemeral_name(stack):
            raise ValueError(f"{stack!r} is not the stack of a perfenv run (perf-<release>-<6>)")
        return stack

    @field_validator("backend", "state_url", "service_url")
    @classmethod
    def _redacted(cls, url: str | None) -> str | None:
        return redact_url(url) if url else url

    @field_validator("created_at", "heartbeat", "expires_at")
    @classmethod
    def _timestamp(cls, text: str | None) -> str | None:
        if text is not None:
            parse_iso(text)  # ValueError: a validation error naming the field
        return text

    @property
    def expires(self) -> datetime | None:
        return parse_iso(self.expires_at) if self.expires_at else None

    def expired(self, at: datetime | None = None) -> bool:
        return self.expires is not None and self.expires <= (at or now())

    def owned_by_me(self) -> bool:
        return self.pid == os.getpid() and self.host == socket.gethostname()

    def alive(self, at: datetime | None = None) -> bool:
        """True while the run's own process may still be working on it."""
        if self.status not in RUNNING:
            return False
        if self.host == socket.gethostname() and self.pid is not None and not pid_running(self.pid):
            return False
        age = ((at or now()) - parse_iso(self.heartbeat)).total_seconds()
        return age < STALE_AFTER_S


def pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def new_manifest(
    *,
    stack: str,
    target: str,
    backend: str,
    state_url: str,
    release: str,
    tags: dict[str, str],
    ttl_s: float | None,
    out_dir: Path | None,
    account: str | None = None,
) -> Manifest:
    started = now()
    return Manifest(
        stack=stack,
        target=target,
        backend=backend,
        state_url=state_url,
        release=release,
        tags=tags,
        created_at=iso(started),
        expires_at=iso(started + timedelta(seconds=ttl_s)) if ttl_s is not None else None,
        heartbeat=iso(started),
        out_dir=str(out_dir) if out_dir else None,
        pid=os.getpid(),
        host=socket.gethostname(),
        account=account,
    )


def parse_manifest(data: object, where: str) -> Manifest:
    """A manifest from a decoded document; BadInput naming `where` and the first bad field."""
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise BadInput(f"{where}: {field}: {first['msg']}") from None


def load_manifest_file(path: Path) -> Manifest:
    """A manifest from a file (the out dir copy); BadInput naming the file if it is not one."""
    try:
        text = read_text(path, MAX_FILE_BYTES)
    except FileNotFoundError:
        raise BadInput(f"{path}: (file): no such manifest") from None
    except IsADirectoryError:
        raise BadInput(f"{path}: (file): a directory, not a manifest file") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path}: (file): not UTF-8 text") from None
    except TooLarge:
        raise BadInput(f"{path}: (file): too large to be a manifest") from None
    except OSError as exc:
        raise BadInput(f"{path}: (file): unreadable ({exc.strerror or exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path}: line {exc.lineno}: malformed JSON") from None
    except RecursionError:
        raise BadInput(f"{path}: (file): nested too deeply to be a manifest") from None
    return parse_manifest(data, str(path))


def registered(store: Store) -> tuple[list[Manifest], list[str]]:
    """Every readable manifest in the run registry, and one line per entry that is not one
    (a corrupt record is reported and skipped: it never stops the others)."""
    found: list[Manifest] = []
    problems: list[str] = []
    for key in store.keys("runs/"):
        try:
            data = store.get(key)
            if data is not None:
                found.append(parse_manifest(data, f"state store: {key}"))
        except (CorruptRecord, BadInput) as exc:
            problems.append(f"{exc} (skipped)")
    return found, problems
