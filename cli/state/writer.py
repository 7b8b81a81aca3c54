"""Writing a run's manifest: the registry entry (compare-and-swap) and the out dir copy, in step;
the heartbeat thread that keeps it fresh while its process works on the stack."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Any

from perfenv.cli.errors import BadInput
from perfenv.cli.state.cas import update
from perfenv.cli.state.manifest import (
    HEARTBEAT_EVERY_S,
    MANIFEST_NAME,
    Manifest,
    iso,
    now,
    parse_manifest,
    registry_key,
)
from perfenv.cli.state.store import CorruptRecord, Store


class Taken(BadInput):
    """The registry entry is held by another live process: refused, never overwritten."""


class ManifestWriter:
    """Keeps the registry copy and the out dir copy of one manifest in step (thread-safe).

    Registry writes are compare-and-swap: a write that finds the entry held by another live
    process (a second teardown, a run that is still going) is refused (`Taken`, exit 2) and
    writes nothing; a lost race is read again and retried.
    """

    def __init__(self, store: Store, manifest: Manifest) -> None:
        self.store = store
        self.manifest = manifest
        self._lock = threading.Lock()
        self._registered = True

    @property
    def key(self) -> str:
        return registry_key(self.manifest.stack)

    def write(self, **changes: object) -> Manifest:
        with self._lock:
            self.manifest = self.manifest.model_copy(update=changes)
            if self._registered:
                update(self.store, self.key, self._over)
            self._write_copy()
            return self.manifest

    def claim(self, status: str) -> Manifest:
        """Take the run over for this process (its pid, host and a fresh heartbeat): the
        refusal check of a second teardown, atomic against a racing one (Taken if held)."""
        return self.write(
            status=status, pid=os.getpid(), host=socket.gethostname(), heartbeat=iso(now())
        )

    def beat(self) -> None:
        self.write(heartbeat=iso(now()))

    def unregister(self, **changes: object) -> None:
        """Delete the registry entry; the out dir copy stays, updated with `changes`."""
        with self._lock:
            self.store.delete(self.key)
            self._registered = False
            self.manifest = self.manifest.model_copy(update=changes)
            self._write_copy()

    def _over(self, current: dict[str, Any] | None) -> dict[str, Any]:
        """This writer's manifest, over `current` unless another live process holds it."""
        if current is not None:
            try:
                held = parse_manifest(current, self.key)
            except (BadInput, CorruptRecord):
                held = None  # a corrupt entry holds nothing: replaced by this one
            if held is not None and held.alive() and not held.owned_by_me():
                raise Taken(
                    f"{held.stack}: held by pid {held.pid} on {held.host} (status {held.status}, "
                    f"heartbeat {held.heartbeat}); not overwritten: stop it first, or wait for it"
                )
        return self.manifest.model_dump()

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
