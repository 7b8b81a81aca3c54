"""The run manifest: registry and out dir copies, heartbeat, liveness."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest

from perfenv.cli.errors import BadInput
from perfenv.cli.state.manifest import (
    iso,
    load_manifest_file,
    new_manifest,
    now,
    registered,
)
from perfenv.cli.state.store import open_store
from perfenv.cli.state.writer import Heartbeat, ManifestWriter


def _manifest(out: Path | None, ttl_s: float = 3600):
    return new_manifest(
        stack="perf-1-0-0-abc123",
        target="local",
        backend="file:///b",
        state_url=open_store().url,
        release="1.0.0",
        tags={"perfenv:stack": "perf-1-0-0-abc123"},
        ttl_s=ttl_s,
        out_dir=out,
    )


def test_writer_keeps_registry_and_out_dir_copies(tmp_path: Path) -> None:
    store = open_store()
    writer = ManifestWriter(store, _manifest(tmp_path / "out"))
    writer.write(status="testing")
    entry = store.get("runs/perf-1-0-0-abc123.json")
    copy = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert entry is not None and entry["status"] == copy["status"] == "testing"
    assert [m.stack for m in registered(store)[0]] == ["perf-1-0-0-abc123"]

    writer.unregister(status="done")
    assert store.get("runs/perf-1-0-0-abc123.json") is None
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["status"] == "done"
    writer.write(note="after")  # no longer re-registers
    assert store.keys("runs/") == []


def test_heartbeat_refreshes_the_registry_entry() -> None:
    store = open_store()
    manifest = _manifest(None).model_copy(update={"heartbeat": "2000-01-01T00:00:00Z"})
    writer = ManifestWriter(store, manifest)
    with Heartbeat(writer, every_s=0.05):
        deadline = time.monotonic() + 10
        while store.get("runs/perf-1-0-0-abc123.json") is None and time.monotonic() < deadline:
            time.sleep(0.05)
    entry = store.get("runs/perf-1-0-0-abc123.json")
    assert entry is not None and entry["heartbeat"] != "2000-01-01T00:00:00Z"


def test_alive_needs_a_running_status_a_live_pid_and_a_fresh_heartbeat() -> None:
    running = _manifest(None).model_copy(update={"status": "testing", "pid": os.getpid()})
    assert running.alive()
    assert not running.model_copy(update={"status": "up"}).alive()
    stale = iso(now() - timedelta(hours=1))
    assert not running.model_copy(update={"heartbeat": stale}).alive()
    assert not running.model_copy(update={"pid": 2**22 + 12345}).alive()


def test_expiry() -> None:
    manifest = _manifest(None, ttl_s=60)
    assert not manifest.expired()
    assert manifest.expired(now() + timedelta(seconds=61))
    assert manifest.expires_at is not None and manifest.expires_at.endswith("Z")


def test_load_manifest_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "manifest.json"
    bad.write_text("{not json")
    with pytest.raises(BadInput, match=r"manifest.json: line 1: malformed JSON"):
        load_manifest_file(bad)
    bad.write_text(json.dumps({"stack": "perf-x-abc123"}))
    with pytest.raises(BadInput, match=r"manifest.json: target: Field required"):
        load_manifest_file(bad)


def test_a_second_teardown_cannot_claim_a_run_another_live_process_holds() -> None:
    import socket
    import subprocess
    import sys

    from perfenv.cli.state.writer import Taken

    store = open_store()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        held = _manifest(None).model_copy(
            update={"status": "tearing-down", "pid": holder.pid, "host": socket.gethostname()}
        )
        store.put("runs/perf-1-0-0-abc123.json", held.model_dump())
        second = ManifestWriter(store, held)
        with pytest.raises(Taken, match=f"held by pid {holder.pid}"):
            second.claim("tearing-down")
        assert store.get("runs/perf-1-0-0-abc123.json") == held.model_dump()  # not overwritten
    finally:
        holder.kill()
        holder.wait()
    claimed = second.claim("tearing-down")  # its holder is gone: the claim goes through
    assert claimed.pid == os.getpid() and claimed.host == socket.gethostname()
