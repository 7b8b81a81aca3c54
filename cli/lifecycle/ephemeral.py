"""The ephemeral stacks as the target and the run registry see them: `stacks` and `reap`.

Reap trusts the target, not only the registry: a stack is reaped only when the target itself
lists it with perfenv's tags and an expiry tag, and its name has the ephemeral shape; an entry
in the store alone never makes a stack (`staging` carries `perfenv:*` tags too) reapable. One bad
record (a corrupt registry entry, an unreadable expiry tag, a name that is not one) is reported
in one line and skipped; the others go on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from perfenv.cli.durations import format_duration
from perfenv.cli.errors import INTERRUPTED, BadInput, worst
from perfenv.cli.lifecycle.cleanup import guarded_teardown
from perfenv.cli.lifecycle.deps import Deps
from perfenv.cli.lifecycle.guards import not_production
from perfenv.cli.lifecycle.naming import PROJECT, TAG, target_for
from perfenv.cli.lifecycle.up_down import Outcome, finish_run
from perfenv.cli.state.manifest import (
    Manifest,
    iso,
    now,
    parse_iso,
    parse_manifest,
    registered,
    registry_key,
)
from perfenv.cli.state.names import is_ephemeral_name, valid_stack_name
from perfenv.cli.state.signals import SignalPolicy
from perfenv.cli.targets.base import Progress, StackInfo, Target
from perfenv.cli.targets.probe import Probe
from perfenv.cli.targets.telemetry import TelemetryReader

EXPIRES_TAG = f"{TAG}expires-at"


@dataclass(frozen=True, kw_only=True)
class Ephemeral:
    """An ephemeral stack as the target lists it, joined with its registry entry."""

    name: str
    target: str
    tags: dict[str, str]
    created_at: datetime | None
    expires_at: datetime | None
    manifest: Manifest | None
    reapable: bool = False  # the target's own marks: see the module's docstring

    def expired(self, at: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= at

    @property
    def release(self) -> str:
        """As given (the registry's); the target's tag holds only a form AWS accepts."""
        return self.manifest.release if self.manifest else self.tags.get(f"{TAG}release", "")

    def row(self, at: datetime) -> dict[str, Any]:
        age = (at - self.created_at).total_seconds() if self.created_at else None
        left = (self.expires_at - at).total_seconds() if self.expires_at else None
        m = self.manifest
        return {
            "stack": self.name,
            "target": self.target,
            "release": self.release,
            "owner": self.tags.get(f"{TAG}owner", ""),
            "status": m.status if m else "",
            "age": format_duration(age) if age is not None else "",
            "expires_at": iso(self.expires_at) if self.expires_at else "",
            "expires_in": (format_duration(left) if left > 0 else "expired")
            if left is not None
            else "",
            "heartbeat": m.heartbeat if m else "",
            "alive": m.alive(at) if m else False,
        }


def _marked(info: StackInfo) -> bool:
    """What the target itself says: perfenv's tags naming this stack, an expiry, the shape."""
    return (
        is_ephemeral_name(info.name)
        and info.tags.get(f"{TAG}project") == PROJECT
        and info.tags.get(f"{TAG}stack") == info.name
        and info.expires_at is not None
    )


def list_ephemeral(target_name: str | None, use: Deps) -> tuple[list[Ephemeral], list[str]]:
    """Ephemeral stacks of the target, plus registry entries the target no longer lists; and
    one line per record that was skipped."""
    target = use.target(target_name)
    entries, problems = registered(use.store())
    manifests = {m.stack: m for m in entries if m.target == target.name}
    found: list[Ephemeral] = []
    for info in target.list_stacks():
        if not valid_stack_name(info.name):
            problems.append(f"{target.name}: {info.name!r} is not a stack name (skipped)")
            continue
        manifest = manifests.pop(info.name, None)
        if info.tags.get(EXPIRES_TAG) and info.expires_at is None:
            raw = info.tags[EXPIRES_TAG]
            problems.append(f"{info.name}: expiry tag {raw!r} is not a time (skipped)")
            continue
        if info.expires_at is None and manifest is None:
            continue  # long-lived
        found.append(_joined(info, manifest))
    for m in manifests.values():
        found.append(
            Ephemeral(
                name=m.stack,
                target=m.target,
                tags=m.tags,
                created_at=_parse_or_none(m.created_at),
                expires_at=m.expires,
                manifest=m,
            )
        )
    return sorted(found, key=lambda e: e.name), problems


def _joined(info: StackInfo, manifest: Manifest | None) -> Ephemeral:
    marked = _marked(info)
    return Ephemeral(
        name=info.name,
        target=info.target,
        tags=info.tags or (manifest.tags if manifest else {}),
        created_at=info.created_at,
        # a reapable stack expires when the target says; otherwise the registry's word is shown
        expires_at=info.expires_at if marked else (manifest.expires if manifest else None),
        manifest=manifest,
        reapable=marked,
    )


def _parse_or_none(text: str) -> datetime | None:
    try:
        return parse_iso(text)
    except ValueError:
        return None


def service_url(stack: str, use: Deps) -> tuple[str, str]:
    """The `service_url` output of a stack that is up (`perfenv test --stack`), and the target it
    lives on; BadInput if none.

    The target is the one the run registry recorded for the stack, else `--target` /
    `PERFENV_TARGET`. Refused unless known not to be production (`guards.not_production`).
    """
    store = use.store()
    recorded = store.get(registry_key(stack))
    manifest = parse_manifest(recorded, f"{store.url}: {registry_key(stack)}") if recorded else None
    not_production(stack, ephemeral=manifest is not None)
    target = target_for(manifest, use) if manifest is not None else use.target(None)
    url = target.outputs(stack).get("service_url")
    if not isinstance(url, str) or not url:
        raise BadInput(f"stack {stack}: no service_url output (is it up on target {target.name}?)")
    return url, target.name


def _stack_target(stack: str, use: Deps) -> Target:
    """The target the registry recorded for a stack that is up, else `--target`'s."""
    recorded = use.store().get(registry_key(stack))
    manifest = Manifest.model_validate(recorded) if recorded is not None else None
    return target_for(manifest, use) if manifest is not None else use.target(None)


def stack_telemetry(stack: str, use: Deps) -> TelemetryReader | None:
    """The server side (balancer, fleet) of a stack that is up, read through its target."""
    return _stack_target(stack, use).telemetry(stack)


def stack_probe(stack: str, use: Deps) -> Probe | None:
    """A watch on the environment of a stack that is up (scale, failover, alarms)."""
    return _stack_target(stack, use).probe(stack)


def stacks(target_name: str | None, expired: bool, use: Deps) -> Outcome:
    at = now()
    found, problems = list_ephemeral(target_name, use)
    rows = [e.row(at) for e in found if not expired or e.expired(at)]
    return Outcome(record=rows, messages=problems)


def reap(target_name: str | None, yes: bool, progress: Progress, use: Deps) -> Outcome:
    """Expired stacks the target marks as perfenv's: listed (dry run) or destroyed (`yes`)."""
    at = now()
    rows: list[dict[str, Any]] = []
    codes: list[int] = []
    found, messages = list_ephemeral(target_name, use)
    policy = SignalPolicy()
    with policy.installed():
        for eph in (e for e in found if e.expired(at)):
            row = {"stack": eph.name, "release": eph.release}
            row["expires_at"] = iso(eph.expires_at) if eph.expires_at else ""
            if not eph.reapable:
                rows.append(row | {"action": "skipped: the target does not mark it as a run's"})
            elif eph.manifest is not None and eph.manifest.alive(at):
                rows.append(row | {"action": "skipped: heartbeat fresh"})
            elif not yes:
                rows.append(row | {"action": "would destroy"})
            elif policy.interrupted or INTERRUPTED in codes:
                rows.append(row | {"action": "skipped: interrupted"})
            else:
                code, action = _reap_one(eph, progress, use, policy, messages)
                codes.append(code)
                rows.append(row | {"action": action})
    if policy.interrupted:
        codes.append(INTERRUPTED)
    return Outcome(record=rows, exit_code=worst(*codes), messages=messages)


def _reap_one(
    eph: Ephemeral, progress: Progress, use: Deps, policy: SignalPolicy, messages: list[str]
) -> tuple[int, str]:
    """The exit code of one stack's teardown (130: a signal came during it, and the loop
    stops) and what became of the stack: destroyed, abandoned or failed."""
    if eph.manifest is None:
        target = use.target(eph.target)
        result = guarded_teardown(target, eph.name, None, policy, progress, messages)
        code = result.code
    else:
        try:
            outcome = finish_run(eph.manifest, use.store(), progress, use)
        except BadInput as exc:  # taken by a live process since it was listed: not ours to reap
            messages.append(str(exc))
            return exc.exit_code, "failed"
        messages += outcome.messages
        assert outcome.teardown is not None
        code, result = outcome.exit_code, outcome.teardown
    if result.clean:
        return code, "destroyed"
    return code, "abandoned" if result.abandoned else "failed"
