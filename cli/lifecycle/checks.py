"""The checks a run passes before anything exists, and `Deps`, what the lifecycle calls out to.

Suite, parity, cost cap, baseline and TTL are checked first; the perf template is loaded and
refused here when it is not an environment or is prod.
"""

from __future__ import annotations

import hashlib
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfenv.cli.durations import format_duration, parse_duration
from perfenv.cli.errors import BadInput, InfraError
from perfenv.cli.project import home, perf_template, stack_file
from perfenv.cli.state.manifest import now
from perfenv.cli.state.store import Store, open_store
from perfenv.cli.targets import get_target
from perfenv.cli.targets.base import Target
from perfenv.infra.config import ConfigError, StackFile, load_stack_file

DEFAULT_TTL = "3h"
# Time to create and health-check a stack before the suite starts, per target.
SETUP_MARGIN_S = {"local": 120.0, "aws": 900.0}
HEALTH_TIMEOUT_S = float(os.environ.get("PERFENV_HEALTH_TIMEOUT_S", "120"))

TargetFactory = Callable[..., Target]


def _load_suite(path: Path) -> Any:
    from perfenv.cli.verdict.suite import load_suite

    return load_suite(path)


def _planned_duration_s(suite: Any) -> float:
    from perfenv.cli.verdict.suite import planned_duration_s

    return float(planned_duration_s(suite))


def _run_suite(suite: Any, base_url: str, out_dir: Path, **kwargs: Any) -> Any:
    from perfenv.cli.lifecycle.testrun import run_suite

    return run_suite(suite, base_url, out_dir, **kwargs)


def _check_parity(config: StackFile) -> None:
    """Parity of the perf template with staging; CheckFailed (exit 1) when they differ.

    Evaluating both programs takes seconds, so a pass is remembered for the exact inputs (the two
    stack files, the program, the comparison code) under `home()/cache/`.
    """
    from perfenv import infra
    from perfenv.cli.program import evaluate, parity
    from perfenv.cli.program.parity import check_parity

    inputs = [config.path, stack_file("staging")]
    inputs += sorted(Path(infra.__file__).parent.rglob("*.py"))
    inputs += [Path(parity.__file__), Path(evaluate.__file__)]
    digest = hashlib.sha256()
    for path in inputs:
        digest.update(str(path).encode())
        digest.update(path.read_bytes() if path.exists() else b"-")
    passed = home() / "cache" / f"parity-{digest.hexdigest()[:32]}"
    if passed.exists():
        return
    check_parity(candidate=config.path, reference="staging")
    passed.parent.mkdir(parents=True, exist_ok=True)
    passed.touch()


def check_cost(config: StackFile, suite: Any, *, stack: str) -> Any:
    """THE call site of the spend cap: BadInput (exit 2) when the run's estimate exceeds it.

    Returns the estimate (for the run's cost record), or None without a cost module.
    """
    try:
        from perfenv.cli.cost.cap import check_cost_cap
    except ModuleNotFoundError as exc:
        if exc.name not in ("perfenv.cli.cost", "perfenv.cli.cost.cap"):
            raise
        return None  # no cost module in this checkout: no cap to check
    return check_cost_cap(config, suite, stack=stack)


def check_baseline(baseline: str, suite: Any, store: Store, target: str) -> None:
    """A named baseline (release or results file) of the suite on the target kind must exist
    before anything is created."""
    if baseline in ("auto", "none"):
        return
    from perfenv.cli.compare import resolve

    resolve(baseline, store, suite.name, target)


def cost_section(estimate: Any) -> dict[str, Any] | None:
    """results.json's `cost` section: the run's estimate (fleet at max size)."""
    if estimate is None:
        return None
    section: dict[str, Any] = estimate.to_dict()
    if section.get("currency") == "USD":
        section.setdefault("total_usd", float(section["total_at_max"]))
    return section


def record_cost(store: Store, estimate: Any, *, release: str, target: str) -> None:
    """The run's cost record (`costs/<stack>.json`), written before anything is created."""
    if estimate is None:
        return
    from perfenv.cli.cost.records import write_cost_record

    write_cost_record(store, estimate=estimate, release=release, target=target, started_at=now())


def ttl_estimate(config: StackFile, stack: str, ttl_s: float) -> Any:
    """What a stack up for its whole TTL can cost (`perfenv up --release` has no suite)."""
    from decimal import Decimal

    from perfenv.cli.cost.estimate import estimate_environment
    from perfenv.cli.cost.prices import load_prices

    if config.environment is None:
        return None
    hours = (Decimal(ttl_s) / 3600).quantize(Decimal("0.01"))
    return estimate_environment(stack, config.environment, hours, load_prices())


def close_cost(store: Store, stack: str) -> None:
    try:
        from perfenv.cli.cost.records import close_cost_record
    except ModuleNotFoundError:
        return
    close_cost_record(store, stack, now())


def wait_healthy(url: str, timeout_s: float = HEALTH_TIMEOUT_S) -> None:
    """Poll `url` until it answers 2xx; InfraError when it does not within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - http(s) only
                if 200 <= resp.status < 300:
                    return
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(getattr(exc, "reason", exc))
        if time.monotonic() >= deadline:
            raise InfraError(f"{url}: not healthy after {format_duration(timeout_s)} ({last})")
        time.sleep(0.5)


@dataclass(kw_only=True)
class Deps:
    """What the lifecycle calls out to; tests replace these with fakes."""

    target: TargetFactory = get_target
    store: Callable[..., Store] = open_store
    load_suite: Callable[[Path], Any] = _load_suite
    planned_duration_s: Callable[[Any], float] = _planned_duration_s
    run_suite: Callable[..., Any] = _run_suite
    check_parity: Callable[[StackFile], None] = _check_parity
    check_cost: Callable[..., Any] = check_cost
    check_baseline: Callable[[str, Any, Store, str], None] = check_baseline
    wait_healthy: Callable[[str], None] = wait_healthy


def current_deps() -> Deps:
    """`lifecycle.deps` as it is now: tests replace it there, after this module is loaded."""
    from perfenv.cli import lifecycle

    return lifecycle.deps


def parse_ttl(text: str) -> float:
    try:
        ttl = parse_duration(text)
    except ValueError as exc:
        raise BadInput(f"--ttl: {exc}") from None
    if ttl <= 0:
        raise BadInput(f"--ttl: must be more than 0 (got {text!r})")
    return ttl


def setup_margin_s(target: str) -> float:
    override = os.environ.get("PERFENV_SETUP_MARGIN")
    if override:
        try:
            return parse_duration(override)
        except ValueError as exc:
            raise BadInput(f"PERFENV_SETUP_MARGIN: {exc}") from None
    return SETUP_MARGIN_S.get(target, max(SETUP_MARGIN_S.values()))


def check_ttl(ttl_s: float, planned_s: float, margin_s: float) -> None:
    need = planned_s + margin_s
    if ttl_s < need:
        raise BadInput(
            f"--ttl: {format_duration(ttl_s)} is shorter than the suite's planned "
            f"{format_duration(planned_s)} plus {format_duration(margin_s)} set-up margin "
            f"(use --ttl {format_duration(need)} or more)"
        )


def load_config(path: Path) -> StackFile:
    try:
        return load_stack_file(path)
    except ConfigError as exc:
        raise BadInput("\n".join(exc.lines)) from None


def load_template(path: Path | None = None) -> StackFile:
    """The perf template (default: the project's), refused if it is not an environment or prod."""
    path = path or perf_template()
    config = load_config(path)
    if config.environment is None:
        raise BadInput(f"{path.name}: config: the perf template needs perfenv:environment")
    if config.environment.kind == "prod":
        raise BadInput(f"{path.name}: kind: prod: perfenv never sends load to production")
    return config
