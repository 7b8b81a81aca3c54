"""The alarm evaluator and the autoscaler, made for a local stack's controller.

`attach` builds both for the stack's groups and alarms (creating the alarms target tracking
owns) and returns one period hook that runs them in the order CloudWatch and Auto Scaling act
(alarms first, then the scaling they call for) on a thread of its own: their API calls never
hold up the controller's per-second loop (health reports, the journal).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from perfenv.cli.targets.local.alarms.service import (
    AlarmEvaluator,
    ApiSource,
    JournalPercentiles,
    Routed,
)
from perfenv.cli.targets.local.scaling.activities import ActivityLog
from perfenv.cli.targets.local.scaling.emulated import FILE
from perfenv.cli.targets.local.scaling.service import Autoscaler

PeriodHook = Callable[[int, int], Any]  # (period start epoch, period seconds)


def attach(
    clients: Callable[[str], Any],
    *,
    groups: list[str],
    alarms: Iterable[str],
    time_scale: float,
    run_dir: Path,
    journal: Path,
) -> tuple[AlarmEvaluator, Autoscaler, list[PeriodHook]]:
    """The evaluator, the autoscaler and the period hook that runs them (evaluator first)."""
    cloudwatch = clients("cloudwatch")
    source = Routed(ApiSource(cloudwatch), JournalPercentiles(journal))
    evaluator = AlarmEvaluator(cloudwatch, source, time_scale)
    evaluator.watch(alarms)
    autoscaler = Autoscaler(clients, groups, ActivityLog(run_dir / FILE), evaluator, time_scale)
    autoscaler.setup()
    hooks = [guarded(evaluator.period), guarded(autoscaler.period)]
    return evaluator, autoscaler, [Background(hooks)]


class Background:
    """Runs the hooks one after the other on a daemon thread; a period that comes while the
    previous one still runs is skipped (and said), never queued behind it."""

    def __init__(self, hooks: list[PeriodHook]) -> None:
        self.hooks, self.busy = hooks, threading.Lock()
        self.thread: threading.Thread | None = None

    def __call__(self, start: int, period_s: int) -> None:
        if not self.busy.acquire(blocking=False):
            print(f"controller: alarms and scaling still busy; period {start} skipped", flush=True)
            return

        def run() -> None:
            try:
                for hook in self.hooks:
                    hook(start, period_s)
            finally:
                self.busy.release()

        self.thread = threading.Thread(target=run, name="perfenv-scaling", daemon=True)
        self.thread.start()


def guarded(hook: PeriodHook) -> PeriodHook:
    """The hook, its failures printed (to the controller's log) instead of raised: a period
    the emulator could not answer is retried next period, and the fleet keeps running."""

    def run(start: int, period_s: int) -> Any:
        try:
            return hook(start, period_s)
        except Exception as exc:  # noqa: BLE001 - logged; the controller must keep the fleet
            name = getattr(hook, "__qualname__", "hook")
            print(f"controller: {name} failed: {' '.join(str(exc).split())}", flush=True)
            return None

    run.__qualname__ = getattr(hook, "__qualname__", "hook")
    return run
