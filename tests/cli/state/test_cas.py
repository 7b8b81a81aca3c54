"""Compare-and-swap on the run registry: a lost race is retried, never overwritten.

The S3 case runs against a moto server. Moto answers If-Match / If-None-Match like S3 (412 on a
stale ETag), so it proves perfenv's retry logic; it does not prove S3's own atomicity under
concurrent writers (the server here handles one request at a time, so its check-and-write
cannot interleave; on AWS, S3 guarantees that).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from perfenv.cli.errors import InfraError
from perfenv.cli.state.cas import update
from perfenv.cli.state.store import Store, open_store

KEY = "runs/perf-cas-abc123.json"
WORKER = """
import json, sys
from perfenv.cli.state import store as store_module
from perfenv.cli.state.cas import update

store = store_module.open_store(sys.argv[1])
lost = 0
put_if = store.put_if
def counting(key, value, version):
    global lost
    won = put_if(key, value, version)
    lost += not won
    return won
store.put_if = counting
for _ in range(int(sys.argv[2])):
    update(store, sys.argv[3], lambda doc: {"count": (doc or {}).get("count", 0) + 1})
print(json.dumps({"lost": lost}))
"""


@pytest.fixture
def s3_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server on loopback, one request at a time; stopped (its thread joined) after."""
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setenv("PERFENV_S3_ENDPOINT_URL", endpoint)
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
        Bucket="perf-state"
    )
    try:
        yield "s3://perf-state/ci"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def file_url(tmp_path: Path) -> str:
    return f"file://{tmp_path / 'state'}"


@pytest.mark.parametrize("url_fixture", ["file_url", "s3_url"])
def test_put_if_writes_only_over_the_version_it_read(
    url_fixture: str, request: pytest.FixtureRequest
) -> None:
    store: Store = open_store(request.getfixturevalue(url_fixture))
    assert store.read(KEY) == (None, None)
    assert store.put_if(KEY, {"n": 1}, None)
    assert not store.put_if(KEY, {"n": 0}, None)  # If-None-Match: it exists now
    doc, version = store.read(KEY)
    assert doc == {"n": 1} and version is not None
    assert store.put_if(KEY, {"n": 2}, version)
    assert not store.put_if(KEY, {"n": 3}, version)  # stale version
    assert store.get(KEY) == {"n": 2}


@pytest.mark.slow
@pytest.mark.parametrize("url_fixture", ["file_url", "s3_url"])
def test_two_processes_doing_100_updates_each_lose_none(
    url_fixture: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(url_fixture)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, "100", KEY],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=os.environ.copy(),
        )
        for _ in range(2)
    ]
    lost = 0
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err[-2000:]
            lost += json.loads(out)["lost"]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    assert open_store(url).get(KEY) == {"count": 200}  # 200 applied, none lost
    print(f"{url_fixture}: 200 updates applied; {lost} lost races retried")


def test_a_refusing_change_writes_nothing(file_url: str) -> None:
    store = open_store(file_url)
    store.put(KEY, {"owner": "someone"})

    def refuse(doc: object) -> dict[str, object]:
        raise InfraError("held by someone else")

    with pytest.raises(InfraError, match="held by someone else"):
        update(store, KEY, refuse)
    assert store.get(KEY) == {"owner": "someone"}


def test_every_attempt_lost_is_reported_not_overwritten(file_url: str) -> None:
    store = open_store(file_url)
    store.put(KEY, {"n": 0})

    others = iter(range(100, 200))

    def meddle(doc: dict[str, object] | None) -> dict[str, object]:
        store.put(KEY, {"n": next(others)})  # another writer, every time
        return {"n": 1}

    with pytest.raises(InfraError, match="still changing after 3 attempts"):
        update(store, KEY, meddle, attempts=3, sleep=lambda s: None)
    assert store.get(KEY) == {"n": 102}
