"""Where a run's wall time goes: each phase's seconds, always on, in the run's record.

The phases happen in different layers (the runner's checks, the target's evaluation and health
wait, the suite's judging and reports, the teardown), which share nothing but the process: one
process-wide clock collects them, at the cost of a clock read per phase. `reset()` starts a
run's timing; `phase(name)` times a block, `laps()` a sequence of steps; `add(name, seconds)`
adds time measured otherwise;
`elapsed()` gives {name: seconds} in the order the phases first ran. A sub-phase is named
`parent/part` (`up/evaluation`): the top-level phases add up to about the run's wall time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_seconds: dict[str, float] = {}


def reset() -> None:
    _seconds.clear()


def add(name: str, seconds: float) -> None:
    _seconds[name] = _seconds.get(name, 0.0) + max(0.0, seconds)


@contextmanager
def phase(name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        add(name, time.perf_counter() - started)


def laps() -> Callable[[str], None]:
    """A clock for consecutive phases: each call adds the time since the previous one (or
    since `laps()`) to the phase it names, so a sequence of steps is timed one line each."""
    last = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        add(name, now - last)
        last = now

    return lap


def elapsed() -> dict[str, float]:
    return {name: round(seconds, 3) for name, seconds in _seconds.items()}


def summary(seconds: dict[str, float]) -> str:
    """One progress line of the top-level phases: `phases: checks 1.2s, up 4.0s, ...`."""
    top = [f"{name} {s:.1f}s" for name, s in seconds.items() if "/" not in name]
    return (
        f"phases: {', '.join(top)}; total {sum(s for n, s in seconds.items() if '/' not in n):.1f}s"
    )


def since_process_start() -> float | None:
    """Seconds since this process started (interpreter and imports included); None where
    /proc does not say (not Linux)."""
    try:
        stat = open(f"/proc/{os.getpid()}/stat").read()
        uptime = float(open("/proc/uptime").read().split()[0])
    except (OSError, ValueError):
        return None
    started_ticks = int(stat[stat.rindex(")") + 2 :].split()[19])
    return max(0.0, uptime - started_ticks / os.sysconf("SC_CLK_TCK"))
