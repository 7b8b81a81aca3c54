from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from perfenv.cli.errors import BadInput
from perfenv.cli.state.s3store import S3Store
from perfenv.cli.state.store import FileStore, Store, open_store


@pytest.fixture
def s3_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.delenv("PERFENV_S3_ENDPOINT_URL", raising=False)
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="perf-state")
        yield open_store("s3://perf-state/ci/perfenv")


@pytest.fixture
def file_store(tmp_path: Path) -> Store:
    return open_store(f"file://{tmp_path / 'state'}")


@pytest.fixture(params=["file", "s3"])
def store(request: pytest.FixtureRequest) -> Store:
    fixture = "file_store" if request.param == "file" else "s3_store"
    found: Store = request.getfixturevalue(fixture)
    return found


def test_put_get_delete_round_trip(store: Store) -> None:
    store.put("results/1.0.0/run-a.json", {"verdict": "pass", "n": 1})
    assert store.get("results/1.0.0/run-a.json") == {"verdict": "pass", "n": 1}
    store.delete("results/1.0.0/run-a.json")
    assert store.get("results/1.0.0/run-a.json") is None


def test_missing_key_is_none_and_delete_is_idempotent(store: Store) -> None:
    assert store.get("runs/nope.json") is None
    store.delete("runs/nope.json")


def test_keys_lists_by_prefix_sorted(store: Store) -> None:
    for key in ("results/1.1.0/b.json", "results/1.0.0/a.json", "runs/perf-x.json"):
        store.put(key, {})
    assert store.keys("results/") == ["results/1.0.0/a.json", "results/1.1.0/b.json"]
    assert store.keys() == ["results/1.0.0/a.json", "results/1.1.0/b.json", "runs/perf-x.json"]


def test_s3_keys_live_under_the_prefix(s3_store: Store) -> None:
    s3_store.put("runs/perf-x.json", {"stack": "perf-x"})
    listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket="perf-state")
    assert [o["Key"] for o in listed["Contents"]] == ["ci/perfenv/runs/perf-x.json"]
    assert isinstance(s3_store, S3Store)


def test_s3_lists_beyond_one_page(s3_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(S3Store, "page_size", 10)
    for i in range(25):
        s3_store.put(f"results/r/{i:04d}.json", {})
    keys = s3_store.keys("results/r/")
    assert len(keys) == 25
    assert keys[-1] == "results/r/0024.json"


def test_open_store_defaults_to_perfenv_state_url(tmp_path: Path) -> None:
    store = open_store()
    assert isinstance(store, FileStore)
    assert store.url.startswith("file://")
    store.put("x.json", {"a": 1})
    assert open_store().get("x.json") == {"a": 1}


def test_file_store_refuses_keys_that_escape_it(file_store: Store) -> None:
    with pytest.raises(BadInput, match="escapes the store"):
        file_store.put("../outside.json", {})


def test_unknown_scheme_is_bad_input() -> None:
    with pytest.raises(BadInput, match="PERFENV_STATE_URL: expected file://PATH or s3://"):
        open_store("gs://bucket/x")


def test_a_file_store_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    store = open_store(f"file://{tmp_path / 'a-file'}")
    with pytest.raises(BadInput, match=r"a-file: cannot write runs/x.json \(Not a directory\)"):
        store.put("runs/x.json", {})
    with pytest.raises(BadInput, match="cannot write"):
        store.put_if("runs/x.json", {}, None)
    assert (tmp_path / "a-file").read_text() == "x"


def test_a_file_url_without_a_path_is_bad_input() -> None:
    with pytest.raises(BadInput, match="PERFENV_STATE_URL: expected file://PATH"):
        open_store("file://")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("s3://no-such-bucket/ci", "NoSuchBucket"),
        ("s3://bucket with spaces/ci", "Invalid bucket name"),
    ],
)
def test_an_s3_store_that_cannot_be_used_is_one_line(
    url: str, why: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PERFENV_S3_ENDPOINT_URL", raising=False)
    with mock_aws():
        store = open_store(url)
        for call in (lambda: store.keys("runs/"), lambda: store.get("runs/x.json")):
            with pytest.raises(BadInput, match=why) as info:
                call()
            assert "\n" not in str(info.value)
