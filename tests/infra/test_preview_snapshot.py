"""What `perfenv preview` lists for every shipped stack stays what the snapshot says.

The snapshot (`snapshots/preview-<stack>.json`: URN -> inputs) pins the program's resources so
that a refactor of the components cannot change them unnoticed: a renamed child changes its URN
(Pulumi would replace it), a moved input changes what AWS is asked for. A change that is meant
to alter the resources regenerates the snapshot, and the diff of the snapshot is reviewed with it:

    PERFENV_PROJECT=. .venv/bin/python -m tests.infra.test_preview_snapshot
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from perfenv.cli.program.preview import preview

STACKS = ("dev", "staging", "perf", "cost")
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def listed(stack: str) -> dict[str, Any]:
    """URN -> inputs of every resource `perfenv preview --stack <stack>` lists."""
    return {r["urn"]: r["inputs"] for r in preview(stack)}


def snapshot_path(stack: str) -> Path:
    return SNAPSHOTS / f"preview-{stack}.json"


@pytest.mark.parametrize("stack", STACKS)
def test_preview_matches_the_snapshot(stack: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERFENV_KUBECONFIG", raising=False)
    want = json.loads(snapshot_path(stack).read_text())
    got = json.loads(json.dumps(listed(stack)))
    assert sorted(got) == sorted(want), "the set of resource URNs changed"
    changed = [urn for urn in want if got[urn] != want[urn]]
    assert changed == [], "inputs changed"


def write_snapshots() -> None:
    SNAPSHOTS.mkdir(exist_ok=True)
    for stack in STACKS:
        text = json.dumps(listed(stack), indent=1, sort_keys=True)
        snapshot_path(stack).write_text(text + "\n")


if __name__ == "__main__":
    write_snapshots()
