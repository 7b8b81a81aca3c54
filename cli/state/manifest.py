"""The run manifest: what a run created and where, so that anyone can finish its teardown.

Written to the state store (`runs/<stack>.json`, the run registry) and to the run's out dir
before anything is created. The running process refreshes `heartbeat`; `perfenv reap` skips a
run whose heartbeat is fresh, and `perfenv down --manifest FILE` finishes a run that a cancelled
job left.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from perfenv.cli.errors import BadInput
from perfenv.cli.state.store import Store

MANIFEST_NAME = "manifest.json"
HEARTBEAT_EVERY_S = float(os.environ.get("PERFENV_HEARTBEAT_S", "15"))
# A heartbeat older than this belongs to a process that is gone (or hung).
STALE_AFTER_S = float(os.environ.get("PERFENV_HEARTBEAT_STALE_S", str(6 * HEARTBEAT_EVERY_S)))

Status = Literal[
    "creating",  # manifest written, target.up running
    "up",  # stack up, no process owns it (perfenv up)
    "testing",  # the suite is running against it
    "tearing-down",
    "kept",  # --keep-on-failure: left up until its expiry
    "leaked",  # teardown left resources: for perfenv reap / down
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
    note: str = ""

    @property
    def expires(self) -> datetime | None:
        return parse_iso(self.expires_at) if self.expires_at else None

    def expired(self, at: datetime | None = None) -> bool:
        return self.expires is not None and self.expires <= (at or now())

    def alive(self, at: datetime | None = None) -> bool:
        """True while the run's own process may still be working on it."""
        if self.status not in RUNNING:
            return False
        if self.host == socket.gethostname() and self.pid is not None and not _pid_alive(self.pid):
            return False
        age = ((at or now()) - parse_iso(self.heartbeat)).total_seconds()
        return age < STALE_AFTER_S


def _pid_alive(pid: int) -> bool:
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
    )


class ManifestWriter:
    """Keeps the registry copy and the out dir copy of one manifest in step (thread-safe)."""

    def __init__(self, store: Store, manifest: Manifest) -> None:
        self.store = store
        self.manifest = manifest
        self._lock = threading.Lock()
        self._registered = True

    def write(self, **changes: object) -> Manifest:
        with self._lock:
            self.manifest = self.manifest.model_copy(update=changes)
            if self._registered:
                self.store.put(registry_key(self.manifest.stack), self.manifest.model_dump())
            self._write_copy()
            return self.manifest

    def beat(self) -> None:
        self.write(heartbeat=iso(now()))

    def unregister(self, **changes: object) -> None:
        """Delete the registry entry; the out dir copy stays, updated with `changes`."""
        with self._lock:
            self._registered = False
            self.store.delete(registry_key(self.manifest.stack))
            self.manifest = self.manifest.model_copy(update=changes)
            self._write_copy()

    def _write_copy(self) -> None:
        if self.manifest.out_dir:
            out = Path(self.manifest.out_dir)
            out.mkdir(parents=True, exist_ok=True)
            tmp = out / f".{MANIFEST_NAME}.{os.getpid()}.tmp"
            tmp.write_text(self.manifest.model_dump_json(indent=2) + "\n")
            tmp.replace(out / MANIFEST_NAME)


class Heartbeat:
    """A daemon thread that refreshes the manifest's heartbeat until stopped."""

    def __init__(self, writer: ManifestWriter, every_s: float = HEARTBEAT_EVERY_S) -> None:
        self.writer, self.every_s = writer, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="perfenv-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.writer.beat()
            except Exception:  # noqa: BLE001 - a missed beat must never kill the run
                continue


def load_manifest_file(path: Path) -> Manifest:
    """A manifest from a file (the out dir copy); BadInput naming the file if unreadable."""
    try:
        return Manifest.model_validate(json.loads(path.read_text()))
    except FileNotFoundError:
        raise BadInput(f"{path}: (file): no such manifest") from None
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path}: line {exc.lineno}: malformed JSON") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise BadInput(f"{path}: {field}: {first['msg']}") from None


def registered(store: Store) -> list[Manifest]:
    """Every manifest in the run registry (unreadable entries are skipped)."""
    found = []
    for key in store.keys("runs/"):
        data = store.get(key)
        if data is None:
            continue
        try:
            found.append(Manifest.model_validate(data))
        except ValidationError:
            continue
    return found
