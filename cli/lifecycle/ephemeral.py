"""The ephemeral stacks as the target and the run registry see them: `stacks` and `reap`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from perfenv.cli.durations import format_duration
from perfenv.cli.errors import INTERRUPTED, BadInput, worst
from perfenv.cli.lifecycle.cleanup import _teardown_codes
from perfenv.cli.lifecycle.deps import Deps
from perfenv.cli.lifecycle.guards import not_production
from perfenv.cli.lifecycle.naming import PROJECT, TAG, target_for
from perfenv.cli.lifecycle.up_down import Outcome
from perfenv.cli.state.manifest import (
    Manifest,
    ManifestWriter,
    iso,
    now,
    registered,
    registry_key,
)
from perfenv.cli.state.signals import SignalPolicy
from perfenv.cli.targets.base import Progress, StackInfo
from perfenv.cli.targets.telemetry import TelemetryReader


@dataclass(frozen=True, kw_only=True)
class Ephemeral:
    """An ephemeral stack as the target lists it, joined with its registry entry."""

    name: str
    target: str
    tags: dict[str, str]
    created_at: datetime | None
    expires_at: datetime | None
    manifest: Manifest | None

    @property
    def ours(self) -> bool:
        """Carries perfenv's tags and an expiry: the only stacks reap may touch."""
        return (
            self.tags.get(f"{TAG}project") == PROJECT
            and self.tags.get(f"{TAG}stack") == self.name
            and self.expires_at is not None
        )

    def expired(self, at: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= at

    def row(self, at: datetime) -> dict[str, Any]:
        age = (at - self.created_at).total_seconds() if self.created_at else None
        left = (self.expires_at - at).total_seconds() if self.expires_at else None
        m = self.manifest
        return {
            "stack": self.name,
            "target": self.target,
            "release": self.tags.get(f"{TAG}release", ""),
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


def list_ephemeral(target_name: str | None, use: Deps) -> list[Ephemeral]:
    """Ephemeral stacks of the target, plus registry entries the target no longer lists."""
    target = use.target(target_name)
    manifests = {m.stack: m for m in registered(use.store()) if m.target == target.name}
    found: list[Ephemeral] = []
    for info in target.list_stacks():
        if info.expires_at is None and info.name not in manifests:
            continue  # long-lived
        found.append(_joined(info, manifests.pop(info.name, None)))
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
    return sorted(found, key=lambda e: e.name)


def _joined(info: StackInfo, manifest: Manifest | None) -> Ephemeral:
    expires = info.expires_at or (manifest.expires if manifest else None)
    return Ephemeral(
        name=info.name,
        target=info.target,
        tags=info.tags or (manifest.tags if manifest else {}),
        created_at=info.created_at,
        expires_at=expires,
        manifest=manifest,
    )


def _parse_or_none(text: str) -> datetime | None:
    from perfenv.cli.state.manifest import parse_iso

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
    recorded = use.store().get(registry_key(stack))
    manifest = Manifest.model_validate(recorded) if recorded is not None else None
    not_production(stack, ephemeral=manifest is not None)
    target = target_for(manifest, use) if manifest is not None else use.target(None)
    url = target.outputs(stack).get("service_url")
    if not isinstance(url, str) or not url:
        raise BadInput(f"stack {stack}: no service_url output (is it up on target {target.name}?)")
    return url, target.name


def stack_telemetry(stack: str, use: Deps) -> TelemetryReader | None:
    """The server side (balancer, fleet) of a stack that is up, read through its target."""
    recorded = use.store().get(registry_key(stack))
    manifest = Manifest.model_validate(recorded) if recorded is not None else None
    target = target_for(manifest, use) if manifest is not None else use.target(None)
    return target.telemetry(stack)


def stacks(target_name: str | None, expired: bool, use: Deps) -> list[dict[str, Any]]:
    at = now()
    return [e.row(at) for e in list_ephemeral(target_name, use) if not expired or e.expired(at)]


def reap(target_name: str | None, yes: bool, progress: Progress, use: Deps) -> Outcome:
    """Expired stacks with perfenv's tags: listed (dry run) or destroyed (`yes`)."""
    at = now()
    rows: list[dict[str, Any]] = []
    codes: list[int] = []
    messages: list[str] = []
    candidates = [e for e in list_ephemeral(target_name, use) if e.ours and e.expired(at)]
    policy = SignalPolicy()
    with policy.installed():
        for eph in candidates:
            row = {"stack": eph.name, "release": eph.tags.get(f"{TAG}release", "")}
            row["expires_at"] = iso(eph.expires_at) if eph.expires_at else ""
            if eph.manifest is not None and eph.manifest.alive(at):
                rows.append(row | {"action": "skipped: heartbeat fresh"})
                continue
            if not yes:
                rows.append(row | {"action": "would destroy"})
                continue
            if policy.interrupted:
                rows.append(row | {"action": "skipped: interrupted"})
                continue
            target = target_for(eph.manifest, use) if eph.manifest else use.target(eph.target)
            store = use.store()
            writer = (
                ManifestWriter(store, eph.manifest.model_copy(update={"pid": os.getpid()}))
                if eph.manifest
                else None
            )
            got = _teardown_codes(target, eph.name, writer, policy, progress, messages)
            codes += got
            rows.append(row | {"action": "destroyed" if not got else "failed"})
            if INTERRUPTED in got:
                break
    if policy.interrupted:
        codes.append(INTERRUPTED)
    return Outcome(record=rows, exit_code=worst(*codes), messages=messages)
