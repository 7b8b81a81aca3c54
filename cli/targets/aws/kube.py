"""A run's Kubernetes side on the aws target: the cluster it may use, and what is left there.

Before anything is created, the preflight refuses a stack whose Kubernetes objects would go to a
cluster that is not explicit and allowed (`perfenv.infra.kube_access`: an explicit kubeconfig
and context, the context listed in `PERFENV_KUBE_CONTEXTS`; unset refuses all) and one whose
leftovers could not be checked (no `kubectl`). `up` records the access and the run's namespace
in the stack's work dir; after destroy, the leftovers check asks the cluster (kubectl, the same
kubeconfig and context) for that namespace and for every object labelled with the stack.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from perfenv.cli.errors import BadInput
from perfenv.cli.project import stack_file
from perfenv.infra.config import ConfigError, StackFile, load_stack_file
from perfenv.infra.kube_access import checked_kube_access
from perfenv.infra.tags import LABEL_PREFIX, label_value

RECORD = "kube.json"
KUBECTL_TIMEOUT_S = 60.0
# What the program creates in a namespace, and what a Deployment makes of it.
KINDS = (
    "namespaces",
    "deployments",
    "replicasets",
    "pods",
    "services",
    "horizontalpodautoscalers",
    "resourcequotas",
    "limitranges",
    "networkpolicies",
)
KUBECTL_HINT = (
    "kubectl is not installed (needed by --target aws to check a run's Kubernetes leftovers); "
    "install it, or set kubernetes.enabled: false"
)


@dataclass(frozen=True, kw_only=True)
class KubeRecord:
    """What the leftovers check needs after the stack's outputs are gone."""

    kubeconfig: str  # a path, or the contents
    context: str
    namespace: str | None = None


def check(config: StackFile) -> KubeRecord | None:
    """The stack's cluster access, or BadInput (exit 2) before anything exists; None when the
    stack has no Kubernetes side."""
    env = config.environment
    if env is None or not env.kubernetes.enabled:
        return None
    try:
        access = checked_kube_access(env.kubernetes, config.path.name)
    except ConfigError as exc:
        raise BadInput(str(exc)) from None
    if shutil.which("kubectl") is None:
        raise BadInput(KUBECTL_HINT)
    assert access.kubeconfig is not None and access.context is not None
    return KubeRecord(kubeconfig=access.kubeconfig, context=access.context)


def save(work: Path, record: KubeRecord | None, outputs: dict[str, Any]) -> None:
    """The run's cluster and namespace (`null`: the stack has no Kubernetes side)."""
    namespace = outputs.get("namespace")
    if record is not None and namespace:
        record = replace(record, namespace=str(namespace))
    path = work / RECORD
    path.write_text(json.dumps(asdict(record) if record is not None else None))
    path.chmod(0o600)  # a kubeconfig given as contents holds credentials


def recorded(work: Path) -> tuple[bool, KubeRecord | None]:
    """Whether `up` recorded the stack's Kubernetes side here, and what it recorded."""
    path = work / RECORD
    if not path.exists():
        return False, None
    data = json.loads(path.read_text())
    return True, KubeRecord(**data) if data is not None else None


def leftovers(work: Path, stack: str) -> list[str]:
    """The run's namespace and every object labelled with its stack that the cluster still
    holds ("kubernetes <Kind> <namespace>/<name>"); a cluster that cannot be asked is a
    leftover line too (the stack stays listed for reap). Without the run's record (its work
    dir is on another machine), the cluster of the stack's file (or the perf template) is asked
    for the labelled objects."""
    known, record = recorded(work)
    if not known:
        config = _source(stack)
        try:
            record = check(config) if config is not None else None
        except BadInput as exc:
            return [f"kubernetes not checked: {exc}"]
    if record is None:
        return []
    selector = f"{LABEL_PREFIX}stack={label_value(stack)}"
    found: set[str] = set()
    queries = [["get", ",".join(KINDS), "--all-namespaces", "-l", selector]]
    if record.namespace:
        queries.append(["get", "namespace", record.namespace, "--ignore-not-found"])
    for query in queries:
        try:
            items = _kubectl(work, record, [*query, "-o", "json"])
        except BadInput as exc:
            return [f"kubernetes not checked: {exc}"]
        found |= {_describe(item) for item in items}
    return sorted(found)


def _source(stack: str) -> StackFile | None:
    """The stack file a stack was made from: its own, else the perf template."""
    for path in (stack_file(stack), stack_file("perf")):
        if path.exists():
            return load_stack_file(path)
    return None


def _describe(item: dict[str, Any]) -> str:
    meta = item.get("metadata", {})
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    phase = item.get("status", {}).get("phase") if item.get("kind") == "Namespace" else None
    return f"kubernetes {item.get('kind', '?')} {where}{meta.get('name', '?')}" + (
        f" ({phase})" if phase and phase != "Active" else ""
    )


def _kubectl(work: Path, record: KubeRecord, args: list[str]) -> list[dict[str, Any]]:
    kubeconfig = record.kubeconfig
    if not Path(kubeconfig).is_file():  # the contents: kubectl reads a file
        path = work / "kubeconfig"
        path.write_text(kubeconfig)
        path.chmod(0o600)
        kubeconfig = str(path)
    command = ["kubectl", "--kubeconfig", kubeconfig, "--context", record.context, *args]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=KUBECTL_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if k != "KUBECONFIG"},
        )
    except FileNotFoundError:
        raise BadInput(KUBECTL_HINT) from None
    except subprocess.TimeoutExpired:
        raise BadInput(f"kubectl did not answer within {KUBECTL_TIMEOUT_S:.0f} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise BadInput(f"kubectl {args[0]} {args[1]}: {last[:200]}")
    if not done.stdout.strip():  # --ignore-not-found and nothing found
        return []
    answer = json.loads(done.stdout)
    items: list[dict[str, Any]] = answer.get("items", [answer] if answer.get("kind") else [])
    return items
