"""Where a side of a comparison comes from: a results file, or a release stored in the store.

A stored baseline is only ever a result of the same suite and target kind
(`perfenv.cli.state.results`). Within a release, the runs on the candidate's environment shape
are preferred; when there are none, the latest run's shape is used and the comparison names the
difference. Every stored run of that shape is a repeat.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perfenv.cli.errors import BadInput
from perfenv.cli.state.releases import check_release, version_key
from perfenv.cli.state.results import StoredRun, stored_runs, suite_name, target_kind
from perfenv.cli.state.store import Store
from perfenv.cli.verdict.results import read_results


def stored_releases(store: Store, suite: str, target: str) -> dict[str, list[StoredRun]]:
    """Release name -> its stored runs of `suite` on `target` (oldest first)."""
    out: dict[str, list[StoredRun]] = {}
    for run in stored_runs(store, suite, target):
        out.setdefault(run.release, []).append(run)
    return out


def ordered_releases(releases: dict[str, list[StoredRun]]) -> list[str]:
    """Oldest first: by the version a name carries, then by when its latest run was stored."""
    return sorted(
        releases,
        key=lambda r: (
            (0, key, "") if (key := version_key(r)) is not None else (1, (), releases[r][-1].run_id)
        ),
    )


def previous_release(store: Store, current: str | None, suite: str, target: str) -> str | None:
    """The latest release of `suite` on `target` stored before `current`: by semantic version,
    else by stored time."""
    releases = stored_releases(store, suite, target)
    releases.pop(current or "", None)
    if not releases:
        return None
    current_key = version_key(current) if current else None
    if current_key is not None:
        earlier = [
            (key, r) for r in releases if (key := version_key(r)) is not None and key < current_key
        ]
        if earlier:
            return max(earlier)[1]
    # Run ids start with their UTC timestamp, so the newest id is the latest stored run.
    return max(releases, key=lambda r: releases[r][-1].run_id)


def _fingerprint(doc: dict[str, Any]) -> str | None:
    shape = (doc.get("target") or {}).get("shape") or {}
    return shape.get("fingerprint")


def merge_runs(docs: list[dict[str, Any]], shape: str | None = None) -> dict[str, Any]:
    """One document from a release's runs: those on `shape` if any, else on the latest run's;
    every stored run of a scenario (not invalid) is a repeat."""
    same = [d for d in docs if shape is not None and _fingerprint(d) == shape]
    if not same:
        same = [d for d in docs if _fingerprint(d) == _fingerprint(docs[-1])]
    latest = same[-1]
    merged_doc = {
        **latest,
        "scenarios": [dict(s, runs=list(s["runs"])) for s in latest["scenarios"]],
    }
    by_name = {s["name"]: s for s in merged_doc["scenarios"]}
    for doc in same[:-1]:
        for scenario in doc.get("scenarios", []):
            if scenario["name"] in by_name and scenario.get("verdict") != "invalid":
                by_name[scenario["name"]]["runs"].extend(scenario["runs"])
    return merged_doc


def release_results(
    store: Store, release: str, suite: str, target: str, shape: str | None = None
) -> dict[str, Any]:
    """A release's stored results of `suite` on `target` as one document."""
    runs = stored_releases(store, suite, target).get(release)
    docs = [d for r in runs or () if (d := store.get(r.key)) is not None]
    if not docs:
        raise BadInput(
            f"no results of suite {suite!r} on target {target} stored for release "
            f"{release!r} in {store.url}"
        )
    return merge_runs(docs, shape)


def check_same(doc: dict[str, Any], suite: str, target: str, what: str) -> dict[str, Any]:
    """`doc` if it is a result of `suite` on `target`; else BadInput naming both."""
    if (suite_name(doc), target_kind(doc)) != (suite, target):
        raise BadInput(
            f"{what}: results of suite {suite_name(doc)!r} on {target_kind(doc)}, not of "
            f"{suite!r} on {target}: a baseline is only ever a result of the same suite and target"
        )
    return doc


def resolve(
    spec: str, store: Store, suite: str, target: str, shape: str | None = None
) -> tuple[str, dict[str, Any]]:
    """(label, results document) for a results.json path, or a release name in the store,
    of `suite` on `target`."""
    path = Path(spec)
    if path.is_dir():
        path = path / "results.json"
    if path.suffix == ".json" or path.exists():
        return str(path), check_same(read_results(path), suite, target, str(path))
    check_release(spec)
    return f"release {spec}", release_results(store, spec, suite, target, shape)


def resolve_any(spec: str, store: Store) -> tuple[str, dict[str, Any]]:
    """(label, document) for a results.json path, or a release's latest stored run of any suite
    (`perfenv compare`'s candidate)."""
    path = Path(spec)
    if path.is_dir():
        path = path / "results.json"
    if path.suffix == ".json" or path.exists():
        return str(path), read_results(path)
    check_release(spec)
    runs = [r for r in stored_runs(store) if r.release == spec]
    if not runs:
        raise BadInput(f"no results stored for release {spec!r} in {store.url}")
    latest = runs[-1]
    return f"release {spec}", release_results(store, spec, latest.suite, latest.target)


def find_baseline(
    store: Store,
    spec: str,
    suite: str,
    target: str,
    release: str | None,
    shape: str | None = None,
) -> tuple[str, dict[str, Any]] | None:
    """(label, document) of the baseline `spec` names for a run of `suite` on `target`: none,
    `auto` (the latest release of the suite stored before `release`, if any), a release or a
    results file. Only ever a result of the same suite and target kind."""
    if spec == "none":
        return None
    if spec == "auto":
        spec = previous_release(store, release, suite, target) or ""
        if not spec:
            return None
    return resolve(spec, store, suite, target, shape)
