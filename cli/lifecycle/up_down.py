"""`perfenv up` and `perfenv down`: a run's two halves, or a long-lived stack's."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfenv.cli.errors import INTERRUPTED, OK, BadInput, PerfenvError, worst
from perfenv.cli.lifecycle.checks import (
    load_template,
    make_out_dir,
    parse_ttl,
    record_cost,
    run_out_dir,
    ttl_estimate,
)
from perfenv.cli.lifecycle.cleanup import Teardown, guarded_teardown
from perfenv.cli.lifecycle.deps import Deps
from perfenv.cli.lifecycle.guards import not_production, require_intent
from perfenv.cli.lifecycle.naming import (
    backend_of,
    new_stack_name,
    recorded_store,
    run_tags,
    target_for,
    with_run,
)
from perfenv.cli.state.manifest import (
    Manifest,
    load_manifest_file,
    new_manifest,
    parse_manifest,
    registry_key,
)
from perfenv.cli.state.names import check_stack_name, is_ephemeral_name
from perfenv.cli.state.signals import SignalPolicy, StopRequested
from perfenv.cli.state.store import Store
from perfenv.cli.state.writer import Heartbeat, ManifestWriter, Taken
from perfenv.cli.targets.base import Progress, UpResult


@dataclass(kw_only=True)
class Outcome:
    """What a lifecycle command did: a record for stdout, lines for stderr, an exit code."""

    record: dict[str, Any] | list[dict[str, Any]]
    exit_code: int = OK
    messages: list[str] = field(default_factory=list)
    teardown: Teardown | None = None  # what a teardown did, for a caller that goes on (reap)


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
    use.check_policies(template, progress)
    target = use.target(target_name)
    account = target.preflight(template, progress)
    if out_dir is not None:  # not another unfinished run's, and a directory
        out_dir = make_out_dir(run_out_dir(out_dir, stack))
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
            account=account,
        )
        tags = run_tags(template, stack, release, manifest.expires_at)
        writer = ManifestWriter(store, manifest.model_copy(update={"tags": tags}))
        writer.write()
        record_cost(store, estimate, release=release, target=target.name, tags=tags)
        config = with_run(
            template, stack, release, manifest.expires_at, account, manifest.state_url
        )
        try:
            with Heartbeat(writer), policy.step("up"):
                up = target.up(stack, config, tags, progress)
        except StopRequested as stop:
            messages.append(f"{stop} during up: tearing down")
        except BadInput as exc:
            writer.unregister(status="done", pid=None, note=f"refused: {exc}")
            raise
        except PerfenvError as exc:
            codes.append(exc.exit_code)
            messages.append(str(exc))
        except Exception:  # a bug: tear down what exists, then let it surface (exit 70)
            guarded_teardown(target, stack, writer, policy, progress, messages)
            raise
        else:
            writer.write(status="up", pid=None, service_url=up.outputs.get("service_url"))
            record |= _up_record(up, writer.manifest)
            return Outcome(record=record, messages=_simulated(up))
        codes.append(guarded_teardown(target, stack, writer, policy, progress, messages).code)
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
    use.check_policies(config, progress)
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

    A stack without the ephemeral marks (its name's shape, and a registry entry or the target's
    expiry tag) is long-lived: refused without `yes`, and refused always when it is (or may be)
    production. Every refusal comes before anything is touched.
    """
    check_stack_name(stack)
    store = use.store()
    recorded = store.get(registry_key(stack))
    if recorded is not None:
        return finish_run(
            parse_manifest(recorded, f"{store.url}: {registry_key(stack)}"), store, progress, use
        )
    target = use.target(target_name)
    listed = {info.name: info for info in target.list_stacks()}.get(stack)
    ephemeral = is_ephemeral_name(stack) and listed is not None and listed.expires_at is not None
    not_production(stack, ephemeral=ephemeral)
    require_intent(stack, ephemeral=ephemeral, yes=yes)
    policy = SignalPolicy()
    messages: list[str] = []
    with policy.installed():
        codes = [guarded_teardown(target, stack, None, policy, progress, messages).code]
    if policy.interrupted:
        codes.append(INTERRUPTED)
    record = {"stack": stack, "target": target.name, "destroyed": worst(*codes) == OK}
    return Outcome(record=record, exit_code=worst(*codes), messages=messages)


def down_manifest(path: Path, progress: Progress, use: Deps) -> Outcome:
    """`perfenv down --manifest FILE`: finish what a cancelled or killed run left.

    The registry entry, when there is one, is the newer word; the out dir copy that is updated
    is FILE itself.
    """
    manifest = load_manifest_file(path)
    record = {"stack": manifest.stack, "target": manifest.target, "destroyed": True}
    store = recorded_store(manifest, use)
    key = registry_key(manifest.stack)
    current = store.get(key)
    if current is None and manifest.status == "done":
        return Outcome(record=record, messages=[f"{manifest.stack}: already torn down"])
    if current is not None:
        manifest = parse_manifest(current, f"{store.url}: {key}")
    return finish_run(
        manifest.model_copy(update={"out_dir": str(path.parent)}), store, progress, use
    )


def finish_run(manifest: Manifest, store: Store, progress: Progress, use: Deps) -> Outcome:
    """Tear down a run's stack from another process (`down`, `reap`): refused while its own
    process is alive; claimed compare-and-swap (so a second teardown is refused too) and kept
    alive by a heartbeat while it runs."""
    stack = manifest.stack
    if manifest.alive():
        raise BadInput(
            f"{stack}: its run is still going (pid {manifest.pid} on {manifest.host}, "
            f"heartbeat {manifest.heartbeat}); stop it first, or wait for it"
        )
    target = target_for(manifest, use)
    writer = ManifestWriter(store, manifest)
    messages: list[str] = []
    try:
        writer.claim("tearing-down")
    except Taken:
        raise
    except Exception as exc:  # noqa: BLE001 - a store error must not stop the teardown
        messages.append(f"{stack}: this teardown is not recorded in {store.url} ({exc})")
    policy = SignalPolicy()
    with policy.installed(), Heartbeat(writer):
        result = guarded_teardown(target, stack, writer, policy, progress, messages)
    if result.refused:  # nothing was touched: the entry goes back as it was
        _restore(writer, manifest, messages)
    codes = [result.code] + ([INTERRUPTED] if policy.interrupted else [])
    record = {"stack": stack, "target": manifest.target, "destroyed": result.clean}
    return Outcome(record=record, exit_code=worst(*codes), messages=messages, teardown=result)


def _restore(writer: ManifestWriter, before: Manifest, messages: list[str]) -> None:
    try:
        writer.write(
            status=before.status, pid=before.pid, host=before.host, heartbeat=before.heartbeat
        )
    except Exception as exc:  # noqa: BLE001
        messages.append(f"{before.stack}: could not restore its registry entry ({exc})")
