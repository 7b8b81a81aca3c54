"""perfenv's own state (`PERFENV_STATE_URL`): run manifests, the run registry, results, costs.

One small interface, two implementations: a directory (`file://`, here) and S3
(`s3://bucket/prefix`, `s3store`). Keys are `/`-separated paths; values are JSON documents. Layout:

    runs/<stack>.json                  run manifest (also the run registry: one per live run)
    results/<suite>/<target>/<release>/<run-id>.json   results (the baselines; `results`)
    costs/<stack>.json                 per-run cost record

Two runners may share a store, so a record that several processes change (a registry entry) is
written compare-and-swap: `read` gives a document with its version, `put_if` writes only if that
version is still current (None: only if the key is absent), and `update` retries a lost race
(`perfenv.cli.state.cas`). The file store holds an `fcntl` lock on a lock file beside the key
while it compares and writes; the S3 store uses conditional writes on the object's ETag.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from perfenv.cli.errors import BadInput
from perfenv.cli.project import home
from perfenv.cli.state.urls import redact_url

Version = str  # an opaque token: a content hash (file), an ETag (S3)


class CorruptRecord(BadInput):
    """A record that is not a JSON object: named in one line, so a caller can skip it."""

    def __init__(self, key: str, why: str) -> None:
        super().__init__(f"state store: {key}: {why}")
        self.key, self.why = key, why


class Store(Protocol):
    url: str

    def get(self, key: str) -> dict[str, Any] | None: ...
    def put(self, key: str, value: dict[str, Any]) -> None: ...
    def delete(self, key: str) -> None: ...
    def keys(self, prefix: str = "") -> list[str]: ...
    def read(self, key: str) -> tuple[dict[str, Any] | None, Version | None]:
        """The document and its version (both None when the key is absent)."""
        ...

    def put_if(self, key: str, value: dict[str, Any], version: Version | None) -> bool:
        """Write `value` only if the key is still at `version` (None: still absent)."""
        ...


def decode(key: str, body: bytes) -> dict[str, Any]:
    """A stored document; CorruptRecord when it is not a JSON object."""
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise CorruptRecord(key, "not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise CorruptRecord(key, f"malformed JSON (line {exc.lineno})") from None
    except RecursionError:
        raise CorruptRecord(key, "nested too deeply") from None
    if not isinstance(data, dict):
        raise CorruptRecord(key, "not a JSON object")
    return data


def encode(value: dict[str, Any]) -> bytes:
    return json.dumps(value, indent=2, default=str).encode()


class FileStore:
    def __init__(self, root: Path, url: str) -> None:
        self.root, self.url = root, redact_url(url)  # `url` names it in messages and manifests

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()) or path == self.root.resolve():
            raise BadInput(f"state key escapes the store: {key}")
        return path

    def _body(self, path: Path, key: str) -> bytes | None:
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):  # absent (a file where a dir would be)
            return None
        except (IsADirectoryError, PermissionError) as exc:
            raise CorruptRecord(key, f"unreadable ({type(exc).__name__})") from None

    def get(self, key: str) -> dict[str, Any] | None:
        return self.read(key)[0]

    def read(self, key: str) -> tuple[dict[str, Any] | None, Version | None]:
        body = self._body(self._path(key), key)
        if body is None:
            return None, None
        return decode(key, body), hashlib.sha256(body).hexdigest()

    def put(self, key: str, value: dict[str, Any]) -> None:
        path = self._path(key)
        with self._locked(path):
            self._write(path, encode(value))

    def put_if(self, key: str, value: dict[str, Any], version: Version | None) -> bool:
        path = self._path(key)
        with self._locked(path):
            body = self._body(path, key)
            current = hashlib.sha256(body).hexdigest() if body is not None else None
            if current != version:
                return False
            self._write(path, encode(value))
            return True

    def delete(self, key: str) -> None:
        path = self._path(key)
        with self._locked(path):
            path.unlink(missing_ok=True)

    def keys(self, prefix: str = "") -> list[str]:
        base = self.root
        if not base.exists():
            return []
        found = (p.relative_to(base).as_posix() for p in base.rglob("*.json") if p.is_file())
        return sorted(k for k in found if k.startswith(prefix))

    @contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        """An exclusive `fcntl` lock on `<key>.lock` beside the record (released on exit, and
        by the kernel if the process dies). A store that cannot be written (a file where its
        directory should be, no permission, a full disk) is one line, exit 2."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with (path.parent / f"{path.name}.lock").open("a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
        except OSError as exc:
            key = path.relative_to(self.root.resolve()).as_posix()
            raise BadInput(f"{self.url}: cannot write {key} ({exc.strerror or exc})") from None

    @staticmethod
    def _write(path: Path, body: bytes) -> None:
        tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
        tmp.write_bytes(body)
        tmp.replace(path)  # atomic: a reader never sees half a record


def open_store(url: str | None = None) -> Store:
    """The state store named by `url`, else `PERFENV_STATE_URL`, else `.perfenv/state`."""
    url = url or os.environ.get("PERFENV_STATE_URL") or f"file://{home() / 'state'}"
    parsed = urlparse(url)
    if parsed.scheme == "file" and parsed.netloc + parsed.path:
        return FileStore(Path(parsed.netloc + parsed.path), url)
    if parsed.scheme == "s3" and parsed.netloc:
        from perfenv.cli.state.s3store import S3Store  # boto3: only when the state is in S3

        return S3Store(parsed.netloc, parsed.path, url)
    raise BadInput(f"PERFENV_STATE_URL: expected file://PATH or s3://BUCKET/PREFIX, got {url!r}")
