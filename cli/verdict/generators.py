"""Where a run's Locust processes run: the stack's load generator instances.

A target knows the instances (its `generator(stack)`), the engine runs plans on them
(`perfenv.cli.engine.run_plan`); this module sits below both so that neither imports the other
(the layers: docs/adr/0030). `remote` is None when the instances' processes run on this machine
(the local target: the emulator's instances, one Locust worker process each); otherwise it is
how the engine reaches instances it has no network path to (the aws target: the state store
in S3 and SSM Run Command).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# get-command-invocation's statuses that are final; anything else is still on its way.
DONE = "Success"
FAILED = ("Cancelled", "TimedOut", "Failed", "Cancelling", "Undeliverable", "Terminated")


@dataclass(frozen=True, kw_only=True)
class CommandState:
    status: str  # Pending, InProgress, Delayed, Success, or one of FAILED
    output: str = ""  # the tail of its stderr (else stdout), for an error message


class RemoteHosts(Protocol):
    """Instances reached without a network path: files through an exchange prefix of the state
    store, commands through a run-command service."""

    def upload(self, name: str, body: bytes) -> str:
        """Store `body` under the exchange prefix; the URI the instances copy it from."""
        ...

    def uri(self, name: str) -> str:
        """The URI of `name` under the exchange prefix (for the instances to write to)."""
        ...

    def download(self, name: str, start: int = 0) -> bytes | None:
        """What an instance wrote under the exchange prefix, from byte `start` on (empty when
        it holds no more); None if nothing is there."""
        ...

    def address(self, instance: str) -> str:
        """The instance's private address (workers connect to their master there)."""
        ...

    def send(self, instances: list[str], commands: list[str], comment: str) -> str:
        """Run a shell script on the instances; the command's id."""
        ...

    def state(self, command_id: str, instance: str) -> CommandState: ...

    def cancel(self, command_id: str) -> None: ...

    def pause(self, seconds: float) -> None:
        """Wait between two polls (the target's clock: tests give one that does not wait)."""
        ...


@dataclass(frozen=True, kw_only=True)
class GeneratorHosts:
    """The load generator's instances in service: Locust's master and one worker each."""

    master: str
    workers: tuple[str, ...]
    remote: RemoteHosts | None = None  # None: their processes run here
