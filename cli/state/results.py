"""Stored results, the baselines: where a results document lives in the state store.

    results/<suite>/<target>/<release>/<run-id>.json

A baseline is only ever a result of the same suite and the same target kind (`local`, `aws`, or
`url` for `perfenv test --url`), so both are part of the key; the environment's shape is in the
document (`target.shape`), where a comparison reads and names it. Suite and release names are
percent-encoded into one key segment each.

Results stored before this layout (`results/<release>/<run-id>.json`) stay usable: their suite
and target kind are read from the document itself (a run without an `environment` section was
a `perfenv test` against a URL), and their shape is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from perfenv.cli.state.store import Store

PREFIX = "results/"
URL_TARGET = "url"  # the target kind of `perfenv test --url`


@dataclass(frozen=True, kw_only=True)
class StoredRun:
    key: str
    suite: str
    target: str
    release: str
    run_id: str


def segment(name: str) -> str:
    """`name` as one key segment: no `/`, never `.` or `..`; `unquote` reverses it."""
    text = quote(name, safe="._+-~")
    return "%2E" + text[1:] if text.startswith(".") else text


def target_kind(doc: dict[str, Any]) -> str:
    """The target kind a results document ran on."""
    target = doc.get("target") or {}
    environment = doc.get("environment") or {}
    return str(target.get("kind") or environment.get("target") or URL_TARGET)


def suite_name(doc: dict[str, Any]) -> str:
    return str((doc.get("suite") or {}).get("name") or "")


def results_key(doc: dict[str, Any]) -> str:
    """Where `doc` (a run stored under a release) goes."""
    release, run_id = doc.get("release"), doc.get("run_id")
    if not release or not run_id:
        raise ValueError("only a run with a release and a run id is stored")
    parts = (suite_name(doc), target_kind(doc), str(release))
    return PREFIX + "/".join(segment(p) for p in parts) + f"/{segment(str(run_id))}.json"


def put_results(store: Store, doc: dict[str, Any]) -> str:
    """Store `doc` under its key; the key."""
    key = results_key(doc)
    store.put(key, doc)
    return key


def _parse(store: Store, key: str) -> StoredRun | None:
    parts = [unquote(p) for p in key.removeprefix(PREFIX).removesuffix(".json").split("/")]
    if not key.endswith(".json"):
        return None
    if len(parts) == 4:
        suite, target, release, run_id = parts
        return StoredRun(key=key, suite=suite, target=target, release=release, run_id=run_id)
    if len(parts) == 2:  # the layout before suites and targets were part of the key
        doc = store.get(key)
        if isinstance(doc, dict):
            release, run_id = parts
            return StoredRun(
                key=key,
                suite=suite_name(doc),
                target=target_kind(doc),
                release=release,
                run_id=run_id,
            )
    return None


def stored_runs(
    store: Store, suite: str | None = None, target: str | None = None
) -> list[StoredRun]:
    """Every stored run (of `suite` on `target`, when given), oldest run id first."""
    runs = [run for key in store.keys(PREFIX) if (run := _parse(store, key)) is not None]
    return sorted(
        (
            r
            for r in runs
            if (suite is None or r.suite == suite) and (target is None or r.target == target)
        ),
        key=lambda r: r.run_id,
    )
