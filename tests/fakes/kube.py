"""A cluster the aws target may use in tests, and a fake `kubectl` that never reaches one.

`allow(monkeypatch, tmp_path)` copies the stacks with `kubernetes.context: perf-ci` into a temp
dir (`PERFENV_STACKS_DIR`), writes a kubeconfig (`PERFENV_KUBECONFIG`), lists the context in
`PERFENV_KUBE_CONTEXTS` and puts the fake `kubectl` first on PATH. Unless `generator`, the
copies' load generator has no workers (a run with workers needs its state store in S3). The
fake logs each call's arguments (JSON, one line each, to `<bin>/kubectl.log`) and answers `get`
with the items in
`<bin>/items.json` (a list; empty unless a test writes it), filtered as asked: by name for
`get namespace NAME`, by the stack label for `-l perfenv.io/stack=...`. `<bin>/fail` makes it
exit 1 with that file's text on stderr.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import STACKS_DIR

CONTEXT = "perf-ci"
SCRIPT = r"""
import json, sys
from pathlib import Path

BIN = Path(__file__).resolve().parent
args = sys.argv[1:]
with open(BIN / "kubectl.log", "a") as log:
    log.write(json.dumps(args) + "\n")
if (BIN / "fail").exists():
    print((BIN / "fail").read_text(), file=sys.stderr)
    sys.exit(1)
items = json.loads((BIN / "items.json").read_text()) if (BIN / "items.json").exists() else []
get = args[args.index("get") + 1:]
if get[0] == "namespace" and len(get) > 1 and not get[1].startswith("-"):
    found = [i for i in items if i["kind"] == "Namespace" and i["metadata"]["name"] == get[1]]
    print(json.dumps(found[0]) if found else "")
    sys.exit(0)
selector = args[args.index("-l") + 1] if "-l" in args else ""
key, _, value = selector.partition("=")
found = [i for i in items if i["metadata"].get("labels", {}).get(key) == value]
print(json.dumps({"kind": "List", "items": found}))
"""


@dataclass(frozen=True)
class FakeCluster:
    bin: Path
    stacks: Path

    def holds(self, items: list[dict[str, Any]]) -> None:
        (self.bin / "items.json").write_text(json.dumps(items))

    def calls(self) -> list[list[str]]:
        log = self.bin / "kubectl.log"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    def fail(self, message: str) -> None:
        (self.bin / "fail").write_text(message)


def item(kind: str, name: str, stack: str, namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {"perfenv.io/stack": stack}}
    if namespace:
        meta["namespace"] = namespace
    return {"kind": kind, "metadata": meta, "status": {"phase": "Active"}}


def allow(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, generator: bool = False
) -> FakeCluster:
    stacks = tmp_path / "kube-stacks"
    stacks.mkdir()
    for source in STACKS_DIR.glob("Pulumi.*.yaml"):
        data = yaml.safe_load(source.read_text())
        environment = data["config"].get("perfenv:environment")
        if environment and environment.get("kubernetes", {}).get("enabled", True):
            environment["kubernetes"]["context"] = CONTEXT
        if environment and not generator:  # no instances to hand a plan to through S3
            environment.get("load_generator", {})["workers"] = 0
        (stacks / source.name).write_text(yaml.safe_dump(data, sort_keys=False))
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    bin_dir = tmp_path / "kube-bin"
    bin_dir.mkdir()
    script = bin_dir / "kubectl"
    script.write_text(f"#!{sys.executable}\n{SCRIPT}")
    script.chmod(0o755)
    monkeypatch.setenv("PERFENV_STACKS_DIR", str(stacks))
    monkeypatch.setenv("PERFENV_KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("PERFENV_KUBE_CONTEXTS", CONTEXT)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return FakeCluster(bin=bin_dir, stacks=stacks)
