"""Signal policy of a run and of `perfenv test` (docs/design.md#signals).

The first SIGINT or SIGTERM stops the current step (up, the suite, ...) and starts teardown.
Signals during teardown do not interrupt it, except a SIGINT that follows an earlier signal (a
second Ctrl-C), which abandons the teardown and leaves the manifest for `perfenv down`. Either
way the run then exits 130.

No signal ever orphans a child. Child processes (the Pulumi CLI, load generators, the command
engine, the local fleet) run in their own process groups, so a terminal's Ctrl-C reaches only
perfenv, and the code that owns a child stops it. Once the first signal has stopped a step, the
step is "stopping": further signals are recorded, not raised, until the step is left (its
`finally` blocks stop their children). Code that stops children anywhere (during a step, or in
teardown) does so inside `stopping_children()`: a signal that arrives meanwhile waits for the
stop, bounded by its grace period, and takes effect right after it. CI runners send SIGINT, then
SIGTERM seconds later, on cancel: the SIGTERM lands in a stop or in teardown and is only recorded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Literal, TypeVar

from perfenv.cli.errors import Interrupted

HANDLED = (signal.SIGINT, signal.SIGTERM)
T = TypeVar("T")


class StopRequested(BaseException):  # noqa: N818 - a request, like KeyboardInterrupt
    """The first signal: stop the current step. BaseException so `except Exception` lets it by."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class TeardownAbandoned(BaseException):  # noqa: N818
    """A second SIGINT during teardown: stop tearing down, leave the manifest."""


Phase = Literal["idle", "step", "stopping", "teardown"]
_installed: list[SignalPolicy] = []  # the policies in force in the main thread, innermost last


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
        _installed.append(self)
        try:
            yield self
        finally:
            _installed.remove(self)
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
        self._react(signum, earlier)

    def _react(self, signum: int, earlier: bool) -> None:
        if self.phase == "teardown":
            if signum == signal.SIGINT and earlier:
                raise TeardownAbandoned()
            return  # teardown goes on; the run exits 130 afterwards
        if self.phase == "step":
            self.phase = "stopping"  # the step stops its children now: later signals wait
            raise StopRequested(signum)
        # idle, or stopping: recorded; the next step refuses to start, and teardown follows


@contextmanager
def stopping_children() -> Iterator[None]:
    """Stop children in here: a SIGINT/SIGTERM that arrives meanwhile is recorded and takes
    effect when the stop is done (bounded by the stop's own grace period), never halfway."""
    policy = _installed[-1] if _installed else None
    if policy is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    before, seen = policy.phase, len(policy.received)
    policy.phase = "stopping"
    try:
        yield
    finally:
        policy.phase = before
        if len(policy.received) > seen:  # deliver what waited, as if it arrived now
            policy._react(policy.received[-1], earlier=len(policy.received) > 1)


def interruptible(name: str, call: Callable[[], T]) -> T:
    """`call` as one step under its own signal policy (`perfenv test`): the first SIGINT or
    SIGTERM stops it, its children are stopped, and Interrupted (exit 130) is raised."""
    policy = SignalPolicy()
    with policy.installed():
        try:
            with policy.step(name):
                return call()
        except StopRequested as stop:
            raise Interrupted(f"{stop} during {name}: stopped, no process left behind") from None


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
    with stopping_children():
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
