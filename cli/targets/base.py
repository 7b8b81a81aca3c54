"""The `Target` protocol: one interface for the local emulator and the Automation API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from perfenv.cli.targets.probe import Probe
from perfenv.cli.targets.telemetry import TelemetryReader
from perfenv.cli.verdict.generators import GeneratorHosts
from perfenv.infra.config import StackFile

Progress = Callable[[str], None]  # one human-readable step, for stderr


@dataclass(frozen=True, kw_only=True)
class StackInfo:
    name: str
    target: str
    tags: dict[str, str]
    created_at: datetime
    expires_at: datetime | None = None  # None: long-lived


@dataclass(frozen=True, kw_only=True)
class UpResult:
    stack: str
    outputs: dict[str, Any]
    resources: int
    simulated: list[str] = field(default_factory=list)  # "type name": recorded, not realized


class Target(Protocol):
    name: str  # "local" | "aws"

    def preflight(self, config: StackFile, progress: Progress) -> str | None:
        """What must hold before anything is created (tools, account, quota); BadInput if not.
        Returns the cloud account the stack will live in (None where there is none)."""
        ...

    def up(
        self, stack: str, config: StackFile, tags: dict[str, str], progress: Progress
    ) -> UpResult:
        """Create `stack` from `config`, every resource tagged with `tags`. Exit 2 if it exists."""
        ...

    def destroy(self, stack: str, progress: Progress) -> None:
        """Delete every resource of `stack`, in reverse dependency order. Idempotent.
        BadInput only for a refusal before anything was read or changed (another account,
        a missing tool): the caller then writes nothing either."""
        ...

    def outputs(self, stack: str) -> dict[str, Any]: ...

    def list_stacks(self) -> list[StackInfo]: ...

    def leftovers(self, stack: str) -> list[str]:
        """What still exists for `stack` after destroy ("type id" lines); empty means clean."""
        ...

    def remove(self, stack: str) -> None:
        """Forget the (destroyed) stack's state."""
        ...

    def telemetry(self, stack: str) -> TelemetryReader | None:
        """The server side of `stack` (balancer, fleet) for a run's report; None if it has none."""
        ...

    def probe(self, stack: str) -> Probe | None:
        """A watch on `stack`'s environment during a scenario (scale, failover, alarms); None if
        it has none."""
        ...

    def generator(self, stack: str) -> GeneratorHosts | None:
        """`stack`'s load generator instances in service (a run's plans go to them); None if
        it has none."""
        ...
