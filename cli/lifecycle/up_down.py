"""`perfenv up` and `perfenv down`: a run's two halves, or a long-lived stack's."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfenv.cli.errors import INTERRUPTED, OK, BadInput, PerfenvError, worst
from perfenv.cli.lifecycle.checks import (
    load_template,
    parse_ttl,
    record_cost,
    ttl_estimate,
)
from perfenv.cli.lifecycle.cleanup import _teardown_codes
from perfenv.cli.lifecycle.deps import Deps
from perfenv.cli.lifecycle.guards import not_production, require_intent
from perfenv.cli.lifecycle.naming import backend_of, new_stack_name, run_tags, target_for, with_run
from perfenv.cli.state.manifest import (
    Manifest,
    ManifestWriter,
    load_manifest_file,
    new_manifest,
    registry_key,
)
from perfenv.cli.state.signals import SignalPolicy, StopRequested
from perfenv.cli.state.store import Store
from perfenv.cli.targets.base import Progress, UpResult


@dataclass(kw_only=True)
class Outcome:
    """What a lifecycle command did: a record for stdout, lines for stderr, an exit code."""

    record: dict[str, Any] | list[dict[str, Any]]
    exit_code: int = OK
    messages: list[str] = field(default_factory=list)


def up_release(
    release: str,
    target_name: str | None,
    ttl: str,
    progress: Progress,
    use: Deps,
    *,
    out_dir: Path | None = None,
    template_path: Path | None = None,
    max_cost: float | None = None,
) -> Outcome:
    """`perfenv up --release R`: the first half of a run; the stack stays up until its expiry."""
    ttl_s = parse_ttl(ttl)
    template = load_template(template_path)
    stack = new_stack_name(release)
    estimate = ttl_estimate(template, stack, ttl_s, max_cost)
    target = use.target(target_name)
    target.preflight(template, progress)
    policy = SignalPolicy()
    codes: list[int] = []
    messages: list[str] = []
    record: dict[str, Any] = {"stack": stack, "target": target.name, "release": release}
    with policy.installed():
        store = use.store()
        manifest = new_manifest(
            stack=stack,
            target=target.name,
            backend=backend_of(target),
            state_url=store.url,
            release=release,
            tags={},
            ttl_s=ttl_s,
            out_dir=out_dir,
        )
        tags = run_tags(template, stack, release, manifest.expires_at)
        writer = ManifestWriter(store, manifest.model_copy(update={"tags": tags}))
        writer.write()
        record_cost(store, estimate, release=release, target=target.name, tags=tags)
        try:
            with policy.step("up"):
                up = target.up(
                    stack, with_run(template, stack, release, manifest.expires_at), tags, progress
                )
        except StopRequested as stop:
            messages.append(f"{stop} during up: tearing down")
        except BadInput as exc:
            writer.unregister(status="done", pid=None, note=f"refused: {exc}")
            raise
        except PerfenvError as exc:
            codes.append(exc.exit_code)
            messages.append(str(exc))
        except Exception:  # a bug: tear down what exists, then let it surface (exit 70)
            _teardown_codes(target, stack, writer, policy, progress, messages)
            raise
        else:
            writer.write(status="up", pid=None, service_url=up.outputs.get("service_url"))
            record |= _up_record(up, writer.manifest)
            return Outcome(record=record, messages=_simulated(up))
        codes += _teardown_codes(target, stack, writer, policy, progress, messages)
    if policy.interrupted:
        codes.append(INTERRUPTED)
    return Outcome(record=record, exit_code=worst(*codes), messages=messages)


def _up_record(up: UpResult, manifest: Manifest | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "service_url": up.outputs.get("service_url"),
        "resources": up.resources,
        "simulated": len(up.simulated),
    }
    if manifest is not None:
        record["expires_at"] = manifest.expires_at
        record["manifest"] = registry_key(manifest.stack)
    return record


def _simulated(up: UpResult) -> list[str]:
    if not up.simulated:
        return []
    return [f"{up.stack}: simulated, not realized: {item}" for item in up.simulated]


def up_stack(stack: str, target_name: str | None, progress: Progress, use: Deps) -> Outcome:
    """`perfenv up --stack S`: a long-lived stack from `stacks/Pulumi.S.yaml` (no expiry)."""
    config = not_production(stack)
    assert config is not None  # not ephemeral: it has its own file
    target = use.target(target_name)
    target.preflight(config, progress)
    tags = run_tags(config, stack, "", None)
    policy = SignalPolicy()
    with policy.installed():
        try:
            with policy.step("up"):
                up = target.up(stack, config, tags, progress)
        except StopRequested as stop:
            return Outcome(
                record={"stack": stack, "target": target.name},
                exit_code=INTERRUPTED,
                messages=[
                    f"{stop} during up: {stack} may be partly up; "
                    f"perfenv down --stack {stack} removes it"
                ],
            )
    record = {"stack": stack, "target": target.name} | _up_record(up, None)
    return Outcome(record=record, messages=_simulated(up))


def down_stack(
    stack: str, target_name: str | None, progress: Progress, use: Deps, *, yes: bool = False
) -> Outcome:
    """`perfenv down --stack S`: a run's stack (via its registry entry) or a long-lived one.

    A stack without the ephemeral marks is long-lived: refused without `yes`, and refused
    always when it is (or may be) production.
    """
    store = use.store()
    recorded = store.get(registry_key(stack))
    if recorded is not None:
        return _down(Manifest.model_validate(recorded), store, progress, use)
    target = use.target(target_name)
    listed = {info.name: info for info in target.list_stacks()}.get(stack)
    ephemeral = listed is not None and listed.expires_at is not None
    not_production(stack, ephemeral=ephemeral)
    require_intent(stack, ephemeral=ephemeral, yes=yes)
    policy = SignalPolicy()
    messages: list[str] = []
    with policy.installed():
        codes = _teardown_codes(target, stack, None, policy, progress, messages)
    if policy.interrupted:
        codes.append(INTERRUPTED)
    record = {"stack": stack, "target": target.name, "destroyed": not codes}
    return Outcome(record=record, exit_code=worst(*codes), messages=messages)


def down_manifest(path: Path, progress: Progress, use: Deps) -> Outcome:
    """`perfenv down --manifest FILE`: finish what a cancelled or killed run left."""
    manifest = load_manifest_file(path)
    record = {"stack": manifest.stack, "target": manifest.target, "destroyed": True}
    store = use.store(manifest.state_url)
    current = store.get(registry_key(manifest.stack))
    if current is None and manifest.status == "done":
        return Outcome(record=record, messages=[f"{manifest.stack}: already torn down"])
    if current is not None:
        manifest = Manifest.model_validate(current)
    return _down(manifest, store, progress, use, copy=path)


def _down(
    manifest: Manifest, store: Store, progress: Progress, use: Deps, copy: Path | None = None
) -> Outcome:
    if manifest.alive():
        raise BadInput(
            f"{manifest.stack}: its run is still going (pid {manifest.pid} on {manifest.host}, "
            f"heartbeat {manifest.heartbeat}); stop it first, or wait for it"
        )
    target = target_for(manifest, use)
    if copy is not None and manifest.out_dir is None:
        manifest = manifest.model_copy(update={"out_dir": str(copy.parent)})
    writer = ManifestWriter(store, manifest.model_copy(update={"pid": os.getpid()}))
    policy = SignalPolicy()
    messages: list[str] = []
    with policy.installed():
        codes = _teardown_codes(target, manifest.stack, writer, policy, progress, messages)
    if policy.interrupted:
        codes.append(INTERRUPTED)
    record = {"stack": manifest.stack, "target": manifest.target, "destroyed": not codes}
    return Outcome(record=record, exit_code=worst(*codes), messages=messages)
