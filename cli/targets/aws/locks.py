"""Who holds a locked stack, read from the Pulumi CLI's own error, and whether it is known dead.

A DIY (file/S3) backend refuses a locked stack with one line per lock file:
`  <url>: created by <user>@<host> (pid <pid>) at <RFC 3339 time>` (pulumi/pulumi,
pkg/backend/diy/lock.go, `checkForLock`). `pulumi cancel` only deletes those files: cancelling
while their owner still runs would let two updates write one state. So perfenv cancels a lock
only when every owner is known dead: a process on this host whose pid no longer runs. An owner
on another host, or a lock perfenv cannot read, is left alone (the teardown reports it).
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

from perfenv.cli.state.manifest import pid_running

_LOCK_LINE = re.compile(
    r"created by (?P<user>.*?)@(?P<host>[^\s@]+) \(pid (?P<pid>\d+)\) at (?P<at>\S+)"
)


@dataclass(frozen=True)
class LockOwner:
    user: str
    host: str
    pid: int
    since: str

    def known_dead(self) -> bool:
        return self.host == socket.gethostname() and not pid_running(self.pid)

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host} since {self.since}"


def owners(message: str) -> list[LockOwner]:
    """The lock owners a ConcurrentUpdateError names (empty when it names none)."""
    return [
        LockOwner(m["user"], m["host"], int(m["pid"]), m["at"])
        for m in _LOCK_LINE.finditer(message)
    ]
