"""Where a side of a comparison comes from: a results file, or a release stored in the store."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from perfenv.cli.errors import BadInput
from perfenv.cli.state.store import Store
from perfenv.cli.verdict.results import read_results

_SEMVER = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$")
_RELEASE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def check_release(release: str) -> str:
    if not _RELEASE.match(release) or ".." in release:
        raise BadInput(f"--release: {release!r} is not a release name like 1.4.2 or v2-rc1")
    return release


def semver_key(release: str) -> tuple[int, int, int, int, tuple[Any, ...]] | None:
    """A sort key by semantic version (a pre-release sorts before its release); None if not one."""
    match = _SEMVER.match(release)
    if not match:
        return None
    major, minor, patch, pre = match.groups()
    pre_key: tuple[Any, ...] = ()
    if pre:
        pre_key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (int(major), int(minor), int(patch or 0), 0 if pre else 1, pre_key)


def stored_releases(store: Store) -> dict[str, list[str]]:
    """Release name -> its stored run ids (oldest first)."""
    out: dict[str, list[str]] = {}
    for key in store.keys("results/"):
        parts = key.split("/")
        if len(parts) == 3 and parts[2].endswith(".json"):
            out.setdefault(parts[1], []).append(parts[2].removesuffix(".json"))
    return {release: sorted(ids) for release, ids in out.items()}


def previous_release(store: Store, current: str | None) -> str | None:
    """The latest release stored before `current`: by semantic version, else by stored time."""
    releases = stored_releases(store)
    releases.pop(current or "", None)
    if not releases:
        return None
    current_key = semver_key(current) if current else None
    if current_key is not None:
        earlier = [
            (key, r) for r in releases if (key := semver_key(r)) is not None and key < current_key
        ]
        if earlier:
            return max(earlier)[1]
    # Run ids start with their UTC timestamp, so the newest id is the latest stored run.
    return max(releases, key=lambda r: releases[r][-1])


def release_results(store: Store, release: str, suite: str | None = None) -> dict[str, Any]:
    """A release's stored results as one document: every stored run of a scenario is a repeat."""
    ids = stored_releases(store).get(release)
    if not ids:
        raise BadInput(f"no results stored for release {release!r} in {store.url}")
    docs = [d for i in ids if (d := store.get(f"results/{release}/{i}.json")) is not None]
    if suite is not None:
        docs = [d for d in docs if d.get("suite", {}).get("name") == suite] or docs
    latest = docs[-1]
    merged_doc = {
        **latest,
        "scenarios": [dict(s, runs=list(s["runs"])) for s in latest["scenarios"]],
    }
    by_name = {s["name"]: s for s in merged_doc["scenarios"]}
    for doc in docs[:-1]:
        for scenario in doc.get("scenarios", []):
            if scenario["name"] in by_name and scenario.get("verdict") != "invalid":
                by_name[scenario["name"]]["runs"].extend(scenario["runs"])
    return merged_doc


def resolve(spec: str, store: Store, suite: str | None = None) -> tuple[str, dict[str, Any]]:
    """(label, results document) for a results.json path or a release name in the store."""
    path = Path(spec)
    if path.is_dir():
        path = path / "results.json"
    if path.suffix == ".json" or path.exists():
        return str(path), read_results(path)
    check_release(spec)
    return f"release {spec}", release_results(store, spec, suite)
