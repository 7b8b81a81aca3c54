"""The checks a run passes before anything exists, and the run's cost record.

Suite, parity, cost cap, baseline and TTL are checked first; the perf template is loaded and
refused here when it is not an environment or is prod.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfenv import infra
from perfenv.cli.durations import env_seconds, format_duration, parse_duration
from perfenv.cli.errors import BadInput, InfraError
from perfenv.cli.lifecycle.guards import not_production
from perfenv.cli.project import home, perf_template, root, stack_file
from perfenv.cli.state.manifest import MANIFEST_NAME, load_manifest_file, now
from perfenv.cli.state.store import Store
from perfenv.infra.config import StackFile
from perfenv.infra.tags import tag_key

if TYPE_CHECKING:
    from perfenv.cli.cost.estimate import Estimate

# The cost, compare and program packages load numpy and pulumi: they are imported where used, so
# that a command that needs none of them starts fast.

RESULTS_DIR = "perfenv-results"  # under the project: the default out dirs
# Time to create and health-check a stack before the suite starts, per target.
SETUP_MARGIN_S = {"local": 120.0, "aws": 900.0}
HEALTH_TIMEOUT_S = env_seconds("PERFENV_HEALTH_TIMEOUT_S", 120.0)


def check_parity_cached(config: StackFile) -> None:
    """Parity of the perf template with staging; CheckFailed (exit 1) when they differ.

    Evaluating both programs takes seconds, so a pass is remembered for the exact inputs (the two
    stack files, the program, the comparison code) under `home()/cache/`.
    """
    inputs = [config.path, stack_file("staging")]
    inputs += sorted(Path(infra.__file__).parent.rglob("*.py"))
    # Their files, not the modules: importing evaluate loads pulumi, which a pass never needs.
    inputs += [_source("perfenv.cli.program.parity"), _source("perfenv.cli.program.evaluate")]
    digest = hashlib.sha256()
    for path in inputs:
        digest.update(str(path).encode())
        digest.update(path.read_bytes() if path.exists() else b"-")
    passed = home() / "cache" / f"parity-{digest.hexdigest()[:32]}"
    if passed.exists():
        return
    from perfenv.cli.program import parity

    parity.check_parity(candidate=config.path, reference="staging")
    passed.parent.mkdir(parents=True, exist_ok=True)
    passed.touch()


def _source(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module
    return Path(spec.origin)


def check_policies_cached(config: StackFile, progress: Callable[[str], None]) -> None:
    """The policy rules over the stack's program, before anything exists: BadInput (exit 2)
    naming each mandatory violation; advisory ones go to `progress`. A pass without warnings is
    remembered for the exact inputs (the stack file, the program, the rules)."""
    inputs = [config.path, *sorted(Path(infra.__file__).parent.rglob("*.py"))]
    # Their files, not the modules: importing evaluate loads pulumi, which a pass never needs.
    inputs += [_source("perfenv.policy.rules"), _source("perfenv.cli.program.evaluate")]
    digest = hashlib.sha256(config.model_dump_json().encode())
    for path in inputs:
        digest.update(str(path).encode())
        digest.update(path.read_bytes() if path.exists() else b"-")
    passed = home() / "cache" / f"policies-{digest.hexdigest()[:32]}"
    if passed.exists():
        return
    from perfenv.cli.program import evaluate, policies

    found = policies.violations(evaluate.evaluate(config, config.stack))
    policies.enforce(found, progress)
    if not found:
        passed.parent.mkdir(parents=True, exist_ok=True)
        passed.touch()


def check_cost(
    config: StackFile,
    suite: Any,
    *,
    stack: str,
    cap_usd: float | None = None,
    workers: int | None = None,
) -> Estimate | None:
    """THE call site of the spend cap: BadInput (exit 2) when the run's estimate exceeds it
    (`--max-cost`, or the suite's `max_cost_usd`: the lower one). The load generator is priced
    with `--workers`, else as the suite's peak rate sizes it.

    Returns the estimate, for the run's cost record.
    """
    from perfenv.cli.cost.cap import check_cost_cap

    return check_cost_cap(config, suite, stack=stack, cap_usd=cap_usd, workers=workers)


def check_baseline(baseline: str, suite: Any, store: Store, target: str) -> None:
    """A named baseline (release or results file) of the suite on the target kind must exist
    before anything is created."""
    if baseline in ("auto", "none"):
        return
    from perfenv.cli.compare import resolve

    resolve(baseline, store, suite.name, target)


def cost_section(estimate: Estimate | None) -> dict[str, Any] | None:
    """results.json's `cost` section: the run's estimate (fleet at max size)."""
    if estimate is None:
        return None
    section: dict[str, Any] = estimate.to_dict()
    if section.get("currency") == "USD":
        section.setdefault("total_usd", float(section["total_at_max"]))
    return section


def record_cost(
    store: Store, estimate: Estimate | None, *, release: str, target: str, tags: dict[str, str]
) -> None:
    """The run's cost record (`costs/<stack>.json`), written before anything is created, with
    its owner and team (from its tags) for chargeback."""
    if estimate is None:
        return
    from perfenv.cli.cost.records import write_cost_record

    write_cost_record(
        store,
        estimate=estimate,
        release=release,
        target=target,
        started_at=now(),
        owner=tags.get(tag_key("owner")),
        team=tags.get(tag_key("team")),
    )


def ttl_estimate(
    config: StackFile, stack: str, ttl_s: float, cap_usd: float | None = None
) -> Estimate | None:
    """What a stack up for its whole TTL can cost (`perfenv up --release` has no suite);
    BadInput (exit 2) when that exceeds `--max-cost`."""
    from perfenv.cli.cost.cap import check_cap
    from perfenv.cli.cost.estimate import estimate_environment
    from perfenv.cli.cost.prices import load_prices

    if config.environment is None:
        return None
    hours = (Decimal(ttl_s) / 3600).quantize(Decimal("0.01"))
    estimate = estimate_environment(stack, config.environment, hours, load_prices())
    return estimate if cap_usd is None else check_cap(estimate, cap_usd, "--max-cost")


def close_cost(store: Store, stack: str) -> None:
    from perfenv.cli.cost.records import close_cost_record

    close_cost_record(store, stack, now())


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is the answer (not healthy), never followed elsewhere."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


_HEALTH_OPENER = urllib.request.build_opener(_NoRedirects)


def wait_healthy(url: str, timeout_s: float = HEALTH_TIMEOUT_S) -> None:
    """Poll `url` until it answers 2xx; InfraError when it does not within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while True:
        try:
            with _HEALTH_OPENER.open(url, timeout=5) as resp:
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


def run_out_dir(out_dir: Path | None, stack: str) -> Path:
    """The run's out dir: `out_dir`, else its own `<project>/perfenv-results/<stack>` (two runs
    of one release never share one). Refused (exit 2) when it holds the manifest of another run
    that is not finished: that run's teardown may still need it."""
    chosen = out_dir or root() / RESULTS_DIR / stack
    try:
        found = load_manifest_file(chosen / MANIFEST_NAME)
    except BadInput:
        if (chosen / MANIFEST_NAME).exists():
            raise BadInput(
                f"{chosen}: holds a manifest.json that perfenv cannot read; use another --out"
            ) from None
        return chosen
    if found.status != "done":
        raise BadInput(
            f"--out {chosen}: holds the manifest of run {found.stack} (status {found.status}); "
            f"finish it (perfenv down --manifest {chosen / MANIFEST_NAME}) or use another --out"
        )
    return chosen


def make_out_dir(out_dir: Path) -> Path:
    """`out_dir`, made a directory (with its parents); exit 2 when it cannot be one (a file
    there or above it, no permission), before anything depends on it."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"--out {out_dir}: cannot be a directory ({exc.strerror})") from None
    return out_dir


def load_template(path: Path | None = None) -> StackFile:
    """The perf template (default: the project's), refused if it is not an environment or prod."""
    path = path or perf_template()
    config = not_production("perf", path=path)
    if config is None or config.environment is None:
        raise BadInput(f"{path.name}: config: the perf template needs perfenv:environment")
    return config
