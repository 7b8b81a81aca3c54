"""perfenv's own state (`PERFENV_STATE_URL`): run manifests, the run registry, results, costs.

One small interface, two implementations: a directory (`file://`) and S3 (`s3://bucket/prefix`).
Keys are `/`-separated paths; values are JSON documents. Layout:

    runs/<stack>.json                  run manifest (also the run registry: one per live run)
    results/<release>/<run-id>.json    results.json of a `perfenv test --release R` (baselines)
    costs/<stack>.json                 per-run cost record
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from perfenv.cli.errors import BadInput
from perfenv.cli.project import home


class Store(Protocol):
    url: str

    def get(self, key: str) -> dict[str, Any] | None: ...
    def put(self, key: str, value: dict[str, Any]) -> None: ...
    def delete(self, key: str) -> None: ...
    def keys(self, prefix: str = "") -> list[str]: ...


class FileStore:
    def __init__(self, root: Path, url: str) -> None:
        self.root, self.url = root, url

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise BadInput(f"state key escapes the store: {key}")
        return path

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self._path(key).read_text())
        except FileNotFoundError:
            return None
        return data

    def put(self, key: str, value: dict[str, Any]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(value, indent=2, default=str))
        tmp.replace(path)  # atomic: a reader never sees half a manifest

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self, prefix: str = "") -> list[str]:
        base = self.root
        if not base.exists():
            return []
        found = (p.relative_to(base).as_posix() for p in base.rglob("*.json") if p.is_file())
        return sorted(k for k in found if k.startswith(prefix))


class S3Store:
    page_size = 1000  # keys per ListObjectsV2 page (S3's maximum)

    def __init__(self, bucket: str, prefix: str, url: str) -> None:
        import boto3  # only when the state lives in S3

        self.bucket, self.prefix, self.url = bucket, prefix.strip("/"), url
        self.s3 = boto3.client("s3", endpoint_url=os.environ.get("PERFENV_S3_ENDPOINT_URL"))

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        data: dict[str, Any] = json.loads(body)
        return data

    def put(self, key: str, value: dict[str, Any]) -> None:
        body = json.dumps(value, indent=2, default=str).encode()
        self.s3.put_object(Bucket=self.bucket, Key=self._key(key), Body=body)

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=self._key(key))

    def keys(self, prefix: str = "") -> list[str]:
        strip = len(self._key(""))
        out: list[str] = []
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket,
            Prefix=self._key(prefix),
            PaginationConfig={"PageSize": self.page_size},
        )
        for page in pages:
            out += [obj["Key"][strip:] for obj in page.get("Contents", [])]
        return sorted(out)


def open_store(url: str | None = None) -> Store:
    """The state store named by `url`, else `PERFENV_STATE_URL`, else `.perfenv/state`."""
    url = url or os.environ.get("PERFENV_STATE_URL") or f"file://{home() / 'state'}"
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return FileStore(Path(parsed.netloc + parsed.path), url)
    if parsed.scheme == "s3" and parsed.netloc:
        return S3Store(parsed.netloc, parsed.path, url)
    raise BadInput(f"PERFENV_STATE_URL: expected file://PATH or s3://BUCKET/PREFIX, got {url!r}")
