"""Stack names that cannot escape; release names as CI passes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfenv.cli.compare import previous_release, release_results, stored_releases
from perfenv.cli.errors import BadInput
from perfenv.cli.lifecycle import new_stack_name
from perfenv.cli.state.names import check_stack_name, inside, is_ephemeral_name
from perfenv.cli.state.releases import (
    check_release,
    release_from_key,
    release_key,
    release_slug,
    version_key,
)
from perfenv.cli.state.results import put_results
from perfenv.cli.state.store import FileStore


@pytest.mark.parametrize("name", ["..", ".", "../x", "a/b", "", "-x", ".hidden", "a" * 101, "a b"])
def test_unsafe_stack_names_are_refused(name: str) -> None:
    with pytest.raises(BadInput, match="is not a stack name"):
        check_stack_name(name)


@pytest.mark.parametrize("name", ["dev", "staging", "perf", "cost", "perf-1-4-2-abc123", "a.b_c"])
def test_stack_file_names_are_stack_names(name: str) -> None:
    assert check_stack_name(name) == name


def test_the_ephemeral_shape() -> None:
    assert is_ephemeral_name("perf-release-1-2-3-a1b2c3")
    assert is_ephemeral_name(new_stack_name("release/1.2.3"))
    for name in (
        "staging",
        "perf",
        "perf-abc123",
        "perf--x-abc123",
        "perf-x-abc12",
        "perf-X-abc123",
    ):
        assert not is_ephemeral_name(name), name
    assert not is_ephemeral_name("perf-" + "a" * 21 + "-abc123")


def test_inside_refuses_paths_that_leave_their_parent(tmp_path: Path) -> None:
    assert inside(tmp_path, "runs", "perf-x-abc123") == tmp_path.resolve() / "runs/perf-x-abc123"
    for parts in ((".."), ("runs", "..", ".."), ("",), ("/etc",)):
        with pytest.raises(BadInput, match="escapes"):
            inside(tmp_path, *parts)
    (tmp_path / "link").symlink_to("/")
    with pytest.raises(BadInput, match="escapes"):
        inside(tmp_path, "link", "etc")


@pytest.mark.parametrize(
    ("release", "slug"),
    [
        ("release/1.2.3", "release-1-2-3"),
        ("1.2.3+build.7/rc-1", "1-2-3-build-7-rc-1"),
        ("v1.4.2-RC.1", "v1-4-2-rc-1"),
        ("feature/Ünïcode ☃ 7", "feature-n-code-7"),
        ("a" * 40, "a" * 20),
    ],
)
def test_release_names_as_ci_passes_them_are_slugged(release: str, slug: str) -> None:
    assert check_release(release) == release  # shown as given
    assert release_slug(release) == slug
    key = release_key(release)
    assert "/" not in key and key not in (".", "..") and release_from_key(key) == release


@pytest.mark.parametrize("release", ["", "...", "☃", "a\nb", "a\x1b[31m", "a\u202eb", "x" * 201])
def test_only_names_that_cannot_be_made_safe_are_refused(release: str) -> None:
    with pytest.raises(BadInput, match="--release"):
        check_release(release)


def test_names_the_first_version_accepted_encode_to_themselves() -> None:
    for release in ("1.4.2", "v2-rc1", "1.0.0+build.5", "2024.01.15", "a_b"):
        assert release_key(release) == release
    assert release_key("..x") == "%2E.x" and release_from_key("%2E.x") == "..x"


def test_release_names_are_ordered_by_the_version_they_carry() -> None:
    assert version_key("release/1.2.3") == version_key("1.2.3")
    assert version_key("1.2.3+build.7/rc-1") == version_key("1.2.3")
    ordered = ["release/1.2.3-rc.1", "release/1.2.3", "v1.10.0", "release/2.0.0"]
    keys = [version_key(r) for r in ordered]
    assert keys == sorted(keys)  # type: ignore[type-var]
    assert version_key("main") is None and version_key("build7.1.2") is None


def test_a_store_of_both_layouts_finds_the_previous_release(tmp_path: Path) -> None:
    store = FileStore(tmp_path, f"file://{tmp_path}")
    suite = {"suite": {"name": "s"}, "scenarios": []}
    # the first version's layout (results/<release>/<run-id>.json), then this one's
    store.put("results/1.1.0/20260101T000000Z-aaaaaa.json", suite | {"v": "old"})
    new = suite | {"release": "release/1.2.3", "run_id": "20260102T000000Z-bbbbbb", "v": "new"}
    key = put_results(store, new)
    assert "/release%2F1.2.3/" in key
    assert set(stored_releases(store, "s", "url")) == {"1.1.0", "release/1.2.3"}
    assert previous_release(store, "release/1.3.0", "s", "url") == "release/1.2.3"
    assert previous_release(store, "release/1.2.3", "s", "url") == "1.1.0"
    assert release_results(store, "1.1.0", "s", "url")["v"] == "old"
    assert release_results(store, "release/1.2.3", "s", "url")["v"] == "new"
