"""Signal policy of a run (docs/design.md#signals).

The first SIGINT or SIGTERM stops the current step (up, the suite, ...) and starts teardown.
Signals during teardown do not interrupt it, except a SIGINT that follows an earlier signal (a
second Ctrl-C), which abandons the teardown and leaves the manifest for `perfenv down`. Either
way the run then exits 130.

Child processes (the Pulumi CLI, load generators, the local fleet) run in their own process
groups, so a terminal's Ctrl-C reaches only perfenv; the step that owns a child decides what the
child receives when it is stopped (see `stop_process_group`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Literal

HANDLED = (signal.SIGINT, signal.SIGTERM)


class StopRequested(BaseException):  # noqa: N818 - a request, like KeyboardInterrupt
    """The first signal: stop the current step. BaseException so `except Exception` lets it by."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class TeardownAbandoned(BaseException):  # noqa: N818
    """A second SIGINT during teardown: stop tearing down, leave the manifest."""


Phase = Literal["idle", "step", "teardown"]


class SignalPolicy:
    """Install with `with policy.installed():`; mark steps with `step()` and `teardown()`."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.phase: Phase = "idle"
        self.current_step = ""

    @property
    def interrupted(self) -> bool:
        return bool(self.received)

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.received[0]).name if self.received else ""

    @contextmanager
    def installed(self) -> Iterator[SignalPolicy]:
        """Handle SIGINT/SIGTERM while inside; a no-op outside the main thread."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {sig: signal.signal(sig, self._handle) for sig in HANDLED}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """An interruptible step; refuses to start once a signal has arrived."""
        if self.received:
            raise StopRequested(self.received[0])
        self.phase, self.current_step = "step", name
        try:
            yield
        finally:
            self.phase = "idle"

    @contextmanager
    def teardown(self) -> Iterator[None]:
        self.phase, self.current_step = "teardown", "teardown"
        try:
            yield
        finally:
            self.phase = "idle"

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        earlier = bool(self.received)
        self.received.append(signum)
        if self.phase == "teardown":
            if signum == signal.SIGINT and earlier:
                raise TeardownAbandoned()
            return  # teardown goes on; the run exits 130 afterwards
        if self.phase == "step":
            raise StopRequested(signum)


def stop_process_group(
    process: subprocess.Popen[str] | subprocess.Popen[bytes], grace_s: float = 30.0
) -> None:
    """Ask a child that runs in its own process group to stop (SIGINT), then kill it."""
    if process.poll() is not None:
        return
    try:
        pgid = os.getpgid(process.pid)
    except ProcessLookupError:
        return
    own_group = pgid != os.getpgrp()  # never signal our own group
    for sig, wait_s in ((signal.SIGINT, grace_s), (signal.SIGKILL, 5.0)):
        try:
            if own_group:
                os.killpg(pgid, sig)
            else:
                os.kill(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue
