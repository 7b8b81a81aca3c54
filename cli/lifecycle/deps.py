"""`Deps`: what the lifecycle calls out to, passed explicitly to every lifecycle function.

The defaults are the real target, store, suite runner and checks. The command layer passes the
`Deps` it is given as the click context's `obj` (tests pass fakes there), else `Deps()`.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfenv.cli.lifecycle.checks import (
    check_baseline,
    check_cost,
    check_parity_cached,
    check_policies_cached,
    wait_healthy,
)
from perfenv.cli.state.store import Store, open_store
from perfenv.cli.targets import get_target
from perfenv.cli.targets.base import Target
from perfenv.infra.config import StackFile

TargetFactory = Callable[..., Target]


# The suite model and runner load numpy and Locust's plumbing: imported when first used.
def load_suite(path: Path) -> Any:
    from perfenv.cli.verdict.suite import load_suite

    return load_suite(path)


def planned_duration_s(suite: Any) -> float:
    from perfenv.cli.verdict.suite import planned_duration_s

    return float(planned_duration_s(suite))


# Loaded by the release history (ruptures, with scipy) and report.html (matplotlib): a second
# or more each, after the load, on the way to the verdict's files.
REPORT_MODULES = ("ruptures", "matplotlib.figure", "matplotlib.backends.backend_svg")


def warm_up() -> None:
    """Load the REPORT_MODULES in a daemon thread: `perfenv run` calls this as the stack comes
    up, while the CLI only waits on the target (never during the load, which it would slow).
    Third-party modules only: nothing the CLI's own thread imports meanwhile."""

    def load() -> None:
        for name in REPORT_MODULES:
            with contextlib.suppress(ImportError):  # the real import says what is missing
                importlib.import_module(name)

    threading.Thread(target=load, name="perfenv-warm-up", daemon=True).start()


def run_suite(suite: Any, base_url: str, out_dir: Path, **kwargs: Any) -> Any:
    from perfenv.cli.lifecycle.testrun import run_suite

    return run_suite(suite, base_url, out_dir, **kwargs)


@dataclass(frozen=True, kw_only=True)
class Deps:
    target: TargetFactory = get_target
    store: Callable[..., Store] = open_store
    load_suite: Callable[[Path], Any] = load_suite
    planned_duration_s: Callable[[Any], float] = planned_duration_s
    run_suite: Callable[..., Any] = run_suite
    check_parity: Callable[[StackFile], None] = check_parity_cached
    check_policies: Callable[[StackFile, Callable[[str], None]], None] = check_policies_cached
    check_cost: Callable[..., Any] = check_cost
    check_baseline: Callable[[str, Any, Store, str], None] = check_baseline
    wait_healthy: Callable[[str], None] = wait_healthy
    warm_up: Callable[[], None] = warm_up
