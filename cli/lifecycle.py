"""The ephemeral run and its halves: up, down, run, stacks, reap (DESIGN.md, "The ephemeral run").

Checks come first, before anything exists; then the manifest (registry and out dir); then the
stack; then the suite; then, always, teardown: destroy, the leftovers check, stack removal and
the registry entry's deletion. Signals follow `cli.signals`.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import secrets
import string
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cli.durations import format_duration, parse_duration
from cli.errors import (
    INFRA,
    INTERNAL,
    INTERRUPTED,
    OK,
    BadInput,
    InfraError,
    PerfenvError,
    worst,
)
from cli.manifest import (
    MANIFEST_NAME,
    Heartbeat,
    Manifest,
    ManifestWriter,
    iso,
    load_manifest_file,
    new_manifest,
    now,
    registered,
    registry_key,
)
from cli.paths import REPO, home
from cli.signals import SignalPolicy, StopRequested, TeardownAbandoned
from cli.store import Store, open_store
from cli.targets import get_target
from cli.targets.base import Progress, StackInfo, Target, UpResult
from infra.config import STACKS_DIR, ConfigError, RunConfig, StackFile, load_stack_file

PROJECT = "perfenv"
TAG = "perfenv:"
PERF_TEMPLATE = STACKS_DIR / "Pulumi.perf.yaml"
DEFAULT_TTL = "3h"
# Time to create and health-check a stack before the suite starts, per target.
SETUP_MARGIN_S = {"local": 120.0, "aws": 900.0}
HEALTH_TIMEOUT_S = float(os.environ.get("PERFENV_HEALTH_TIMEOUT_S", "120"))
_SUFFIX = string.ascii_lowercase + string.digits

TargetFactory = Callable[..., Target]


def _load_suite(path: Path) -> Any:
    from cli.suite import load_suite

    return load_suite(path)


def _planned_duration_s(suite: Any) -> float:
    from cli.suite import planned_duration_s

    return float(planned_duration_s(suite))


def _run_suite(suite: Any, base_url: str, out_dir: Path, **kwargs: Any) -> Any:
    from cli.testrun import run_suite

    return run_suite(suite, base_url, out_dir, **kwargs)


def _check_parity(config: StackFile) -> None:
    """Parity of the perf template with staging; CheckFailed (exit 1) when they differ.

    Evaluating both programs takes seconds, so a pass is remembered for the exact inputs (the two
    stack files, the program, the comparison code) under `home()/cache/`.
    """
    from cli.parity import check_parity

    inputs = [config.path, STACKS_DIR / "Pulumi.staging.yaml"]
    inputs += sorted((REPO / "infra").rglob("*.py"))
    inputs += [REPO / "cli" / "parity.py", REPO / "cli" / "evaluate.py"]
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
        from cli.cost.cap import check_cost_cap
    except ModuleNotFoundError as exc:
        if exc.name not in ("cli.cost", "cli.cost.cap"):
            raise
        return None  # no cost module in this checkout: no cap to check
    return check_cost_cap(config, suite, stack=stack)


def check_baseline(baseline: str, suite: Any, store: Store) -> None:
    """A named baseline (release or results file) must exist before anything is created."""
    if baseline in ("auto", "none"):
        return
    from cli.compare import resolve

    resolve(baseline, store, getattr(suite, "name", None))


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
    from cli.cost.records import write_cost_record

    write_cost_record(store, estimate=estimate, release=release, target=target, started_at=now())


def close_cost(store: Store, stack: str) -> None:
    try:
        from cli.cost.records import close_cost_record
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
    check_baseline: Callable[[str, Any, Store], None] = check_baseline
    wait_healthy: Callable[[str], None] = wait_healthy


deps = Deps()


# --- names, tags, checks ---------------------------------------------------------------------


def release_slug(release: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", release.lower()).strip("-")[:20].strip("-")
    if not slug:
        raise BadInput(f"--release: {release!r} has no letters or digits")
    return slug


def new_stack_name(release: str) -> str:
    """`perf-<release-slug>-<6 random [a-z0-9]>`."""
    return f"perf-{release_slug(release)}-{''.join(secrets.choice(_SUFFIX) for _ in range(6))}"


def owner() -> str:
    if os.environ.get("PERFENV_OWNER"):
        return os.environ["PERFENV_OWNER"]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def run_tags(config: StackFile, stack: str, release: str, expires_at: str | None) -> dict[str, str]:
    """The `perfenv:*` tags every resource of `stack` carries."""
    environment = config.environment.name if config.environment else config.stack
    tags = {
        f"{TAG}project": PROJECT,
        f"{TAG}environment": environment,
        f"{TAG}stack": stack,
        f"{TAG}owner": owner(),
    }
    if release:
        tags[f"{TAG}release"] = release
    if expires_at:
        tags[f"{TAG}expires-at"] = expires_at
    return tags


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


def load_template(path: Path = PERF_TEMPLATE) -> StackFile:
    """The perf template, refused if it is not an environment or its kind is prod."""
    config = load_config(path)
    if config.environment is None:
        raise BadInput(f"{path.name}: config: the perf template needs perfenv:environment")
    if config.environment.kind == "prod":
        raise BadInput(f"{path.name}: kind: prod: perfenv never sends load to production")
    return config


def with_run(config: StackFile, stack: str, release: str, expires_at: str | None) -> StackFile:
    """The template as `stack`'s config, with its `perfenv:run` section."""
    run = RunConfig(release=release, owner=owner(), expires_at=expires_at)
    return config.model_copy(update={"stack": stack, "run": run})


def backend_of(target: Target) -> str:
    backend = getattr(target, "backend", None)
    if isinstance(backend, str) and backend:
        return backend
    return f"file://{home() / target.name}"


def target_for(manifest: Manifest, use: Deps) -> Target:
    return use.target(manifest.target, backend=manifest.backend)


# --- teardown --------------------------------------------------------------------------------


@dataclass(kw_only=True)
class Teardown:
    leftovers: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def clean(self) -> bool:
        return not self.leftovers and not self.error


def teardown(
    target: Target, stack: str, writer: ManifestWriter | None, progress: Progress
) -> Teardown:
    """Destroy, check leftovers, remove the stack and its registry entry. Never raises
    PerfenvError: a failure is reported in the result and leaves the stack for `reap`."""
    if writer:
        writer.write(status="tearing-down")
    result = Teardown()
    try:
        progress(f"destroying {stack}")
        target.destroy(stack, progress)
        result.leftovers = list(target.leftovers(stack))
    except PerfenvError as exc:
        result.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - e.g. a cloud API error: the stack stays for reap
        result.error = f"{type(exc).__name__}: {exc}"
    if not result.clean:
        if writer:
            note = result.error or f"{len(result.leftovers)} leftovers"
            writer.write(status="leaked", pid=None, note=note)
        return result
    target.remove(stack)
    if writer:
        writer.unregister(status="done", pid=None, note="destroyed")
        close_cost(writer.store, stack)
    progress(f"{stack}: destroyed, nothing left")
    return result


def teardown_message(stack: str, result: Teardown) -> str:
    if result.error:
        return f"{stack}: teardown failed: {result.error} (kept for perfenv reap)"
    shown = ", ".join(result.leftovers[:5]) + (" ..." if len(result.leftovers) > 5 else "")
    return f"{stack}: {len(result.leftovers)} leftovers after destroy: {shown} (kept for reap)"


# --- run -------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    release: str
    target: str | None = None
    suite: Path
    ttl: str = DEFAULT_TTL
    out_dir: Path
    baseline: str = "auto"
    keep_on_failure: bool = False
    workers: int | None = None
    template: Path = PERF_TEMPLATE


@dataclass(kw_only=True)
class RunReport:
    stack: str
    release: str
    target: str
    exit_code: int = OK
    verdict: str = ""
    messages: list[str] = field(default_factory=list)
    out_dir: str = ""
    results: str = ""
    leftovers: list[str] = field(default_factory=list)
    status: str = ""

    def record(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "release": self.release,
            "target": self.target,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "status": self.status,
            "out_dir": self.out_dir,
            "results": self.results,
            "leftovers": len(self.leftovers),
        }


def run(opts: RunOptions, progress: Progress, use: Deps | None = None) -> RunReport:
    """`perfenv run`: checks, manifest, up, suite, compare, and always teardown."""
    use = use or deps
    # 1. Checks, before anything exists.
    ttl_s = parse_ttl(opts.ttl)
    template = load_template(opts.template)
    suite = use.load_suite(opts.suite)
    planned_s = use.planned_duration_s(suite)
    use.check_parity(template)
    target = use.target(opts.target)
    stack = new_stack_name(opts.release)
    estimate = use.check_cost(template, suite, stack=stack)
    check_ttl(ttl_s, planned_s, setup_margin_s(target.name))
    use.check_baseline(opts.baseline, suite, use.store())
    return _Run(opts, use, target, template, suite, ttl_s, stack, estimate, progress).execute()


class _Run:
    """One ephemeral run after its checks passed."""

    def __init__(
        self,
        opts: RunOptions,
        use: Deps,
        target: Target,
        template: StackFile,
        suite: Any,
        ttl_s: float,
        stack: str,
        estimate: Any,
        progress: Progress,
    ) -> None:
        self.opts, self.use, self.target, self.suite = opts, use, target, suite
        self.template, self.ttl_s, self.progress = template, ttl_s, progress
        self.stack, self.estimate = stack, estimate
        self.bug: Exception | None = None
        self.policy = SignalPolicy()
        self.report = RunReport(
            stack=self.stack, release=opts.release, target=target.name, out_dir=str(opts.out_dir)
        )

    def execute(self) -> RunReport:
        codes: list[int] = []
        with self.policy.installed():
            store = self.use.store()
            manifest = new_manifest(
                stack=self.stack,
                target=self.target.name,
                backend=backend_of(self.target),
                state_url=store.url,
                release=self.opts.release,
                tags={},
                ttl_s=self.ttl_s,
                out_dir=self.opts.out_dir,
            )
            tags = run_tags(self.template, self.stack, self.opts.release, manifest.expires_at)
            # 2. The manifest, in the registry and the out dir, before anything is created.
            self.writer = ManifestWriter(store, manifest.model_copy(update={"tags": tags}))
            self.writer.write()
            record_cost(store, self.estimate, release=self.opts.release, target=self.target.name)
            self.progress(f"{self.stack}: manifest in {store.url} and {self.opts.out_dir}")
            with Heartbeat(self.writer):
                created = self._steps(tags, manifest.expires_at)
                codes.append(self.report.exit_code)
                if created:
                    codes += self._finish()
        if self.policy.interrupted:
            codes.append(INTERRUPTED)
            self.report.messages.append(f"interrupted by {self.policy.signal_name}")
        self.report.exit_code = worst(*codes)
        self.report.status = self.writer.manifest.status
        if self.bug is not None and self.report.exit_code == INTERNAL:
            raise self.bug  # torn down cleanly: the traceback is what is left to say
        return self.report

    def _steps(self, tags: dict[str, str], expires_at: str | None) -> bool:
        """Up, health, suite; sets the run's own exit code. False if nothing was created."""
        opts, report, policy = self.opts, self.report, self.policy
        config = with_run(self.template, self.stack, opts.release, expires_at)
        try:
            with policy.step("up"):
                up = self.target.up(self.stack, config, tags, self.progress)
            url = str(up.outputs.get("service_url") or "")
            self.writer.write(status="testing", service_url=url or None)
            if up.simulated:
                self.progress(
                    f"{self.stack}: {len(up.simulated)} resources simulated, not realized"
                )
            if not url:
                raise InfraError(f"{self.stack}: the stack has no service_url output")
            assert config.environment is not None
            with policy.step("health"):
                self.use.wait_healthy(url.rstrip("/") + config.environment.app.health_path)
            with policy.step("suite"):
                outcome = self.use.run_suite(
                    self.suite,
                    url,
                    opts.out_dir,
                    release=opts.release,
                    workers=opts.workers or 0,
                    repeat=1,
                    baseline=opts.baseline,
                    extra=self._extra(tags, up),
                    progress=self.progress,
                )
            report.exit_code = int(outcome.exit_code)
            report.verdict = str(getattr(outcome, "verdict", "") or "")
            report.results = str(getattr(outcome, "results_path", "") or "")
        except StopRequested as stop:
            report.messages.append(f"{stop} during {policy.current_step}: tearing down")
        except PerfenvError as exc:
            report.exit_code = exc.exit_code
            report.messages.append(str(exc))
            if isinstance(exc, BadInput) and policy.current_step == "up":
                # The target refuses before creating anything (its contract): nothing to undo.
                self.writer.unregister(status="done", pid=None, note=f"refused: {exc}")
                return False
        except Exception as exc:  # a bug: still tear down, then let it surface (exit 70)
            self.bug = exc
            report.exit_code = INTERNAL
            report.messages.append(f"internal error during {policy.current_step}: tearing down")
        return True

    def _finish(self) -> list[int]:
        """Teardown (or keep a failed stack with --keep-on-failure); the exit codes it adds."""
        report, stack = self.report, self.stack
        failed = report.exit_code != OK
        if self.opts.keep_on_failure and failed and not self.policy.interrupted:
            self.writer.write(status="kept", pid=None, note="--keep-on-failure")
            report.messages.append(
                f"{stack}: kept (--keep-on-failure) until {self.writer.manifest.expires_at}; "
                f"perfenv down --stack {stack} removes it"
            )
            return []
        try:
            with self.policy.teardown():
                result = teardown(self.target, stack, self.writer, self.progress)
        except TeardownAbandoned:
            self.writer.write(status="abandoned", pid=None, note="second SIGINT in teardown")
            manifest_file = self.opts.out_dir / MANIFEST_NAME
            report.messages.append(
                f"{stack}: teardown abandoned; finish it with "
                f"perfenv down --manifest {manifest_file}"
            )
            return [INTERRUPTED]
        report.leftovers = result.leftovers
        if result.clean:
            return []
        report.messages.append(teardown_message(stack, result))
        if failed:
            report.messages.append(f"and the run itself failed (exit {report.exit_code})")
        return [INFRA]

    def _extra(self, tags: dict[str, str], up: UpResult) -> dict[str, Any]:
        """results.json's `environment` (and `cost`) sections."""
        extra: dict[str, Any] = {
            "environment": {
                "stack": self.stack,
                "target": self.target.name,
                "backend": self.writer.manifest.backend,
                "tags": tags,
                "resources": up.resources,
                "simulated": list(up.simulated),
            }
        }
        cost = cost_section(self.estimate)
        if cost is not None:
            extra["cost"] = cost
        return extra


# --- up --------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class Outcome:
    """What a lifecycle command did: a record for stdout, lines for stderr, an exit code."""

    record: dict[str, Any] | list[dict[str, Any]]
    exit_code: int = OK
    messages: list[str] = field(default_factory=list)


def up_release(
    release: str,
    target_name: str | None,
    ttl: str,
    progress: Progress,
    out_dir: Path | None = None,
    use: Deps | None = None,
    template_path: Path = PERF_TEMPLATE,
) -> Outcome:
    """`perfenv up --release R`: the first half of a run; the stack stays up until its expiry."""
    use = use or deps
    ttl_s = parse_ttl(ttl)
    template = load_template(template_path)
    target = use.target(target_name)
    stack = new_stack_name(release)
    policy = SignalPolicy()
    codes: list[int] = []
    messages: list[str] = []
    record: dict[str, Any] = {"stack": stack, "target": target.name, "release": release}
    with policy.installed():
        store = use.store()
        manifest = new_manifest(
            stack=stack,
            target=target.name,
            backend=backend_of(target),
            state_url=store.url,
            release=release,
            tags={},
            ttl_s=ttl_s,
            out_dir=out_dir,
        )
        tags = run_tags(template, stack, release, manifest.expires_at)
        writer = ManifestWriter(store, manifest.model_copy(update={"tags": tags}))
        writer.write()
        try:
            with policy.step("up"):
                up = target.up(
                    stack, with_run(template, stack, release, manifest.expires_at), tags, progress
                )
        except StopRequested as stop:
            messages.append(f"{stop} during up: tearing down")
        except BadInput as exc:
            writer.unregister(status="done", pid=None, note=f"refused: {exc}")
            raise
        except PerfenvError as exc:
            codes.append(exc.exit_code)
            messages.append(str(exc))
        except Exception:  # a bug: tear down what exists, then let it surface (exit 70)
            _teardown_codes(target, stack, writer, policy, progress, messages)
            raise
        else:
            writer.write(status="up", pid=None, service_url=up.outputs.get("service_url"))
            record |= _up_record(up, writer.manifest)
            return Outcome(record=record, messages=_simulated(up))
        codes += _teardown_codes(target, stack, writer, policy, progress, messages)
    if policy.interrupted:
        codes.append(INTERRUPTED)
    return Outcome(record=record, exit_code=worst(*codes), messages=messages)


def _up_record(up: UpResult, manifest: Manifest | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "service_url": up.outputs.get("service_url"),
        "resources": up.resources,
        "simulated": len(up.simulated),
    }
    if manifest is not None:
        record["expires_at"] = manifest.expires_at
        record["manifest"] = registry_key(manifest.stack)
    return record


def _simulated(up: UpResult) -> list[str]:
    if not up.simulated:
        return []
    return [f"{up.stack}: simulated, not realized: {item}" for item in up.simulated]


def up_stack(
    stack: str, target_name: str | None, progress: Progress, use: Deps | None = None
) -> Outcome:
    """`perfenv up --stack S`: a long-lived stack from `stacks/Pulumi.S.yaml` (no expiry)."""
    use = use or deps
    config = load_config(STACKS_DIR / f"Pulumi.{stack}.yaml")
    target = use.target(target_name)
    tags = run_tags(config, stack, "", None)
    policy = SignalPolicy()
    with policy.installed():
        try:
            with policy.step("up"):
                up = target.up(stack, config, tags, progress)
        except StopRequested as stop:
            return Outcome(
                record={"stack": stack, "target": target.name},
                exit_code=INTERRUPTED,
                messages=[
                    f"{stop} during up: {stack} may be partly up; "
                    f"perfenv down --stack {stack} removes it"
                ],
            )
    record = {"stack": stack, "target": target.name} | _up_record(up, None)
    return Outcome(record=record, messages=_simulated(up))


# --- down ------------------------------------------------------------------------------------


def _teardown_codes(
    target: Target,
    stack: str,
    writer: ManifestWriter | None,
    policy: SignalPolicy,
    progress: Progress,
    messages: list[str],
) -> list[int]:
    try:
        with policy.teardown():
            result = teardown(target, stack, writer, progress)
    except TeardownAbandoned:
        if writer:
            writer.write(status="abandoned", pid=None, note="second SIGINT in teardown")
        messages.append(f"{stack}: teardown abandoned; run perfenv down again to finish it")
        return [INTERRUPTED]
    if result.clean:
        return []
    messages.append(teardown_message(stack, result))
    return [INFRA]


def down_stack(
    stack: str, target_name: str | None, progress: Progress, use: Deps | None = None
) -> Outcome:
    """`perfenv down --stack S`: a run's stack (via its registry entry) or a long-lived one."""
    use = use or deps
    store = use.store()
    recorded = store.get(registry_key(stack))
    if recorded is not None:
        return _down(Manifest.model_validate(recorded), store, progress, use)
    target = use.target(target_name)
    policy = SignalPolicy()
    messages: list[str] = []
    with policy.installed():
        codes = _teardown_codes(target, stack, None, policy, progress, messages)
    if policy.interrupted:
        codes.append(INTERRUPTED)
    record = {"stack": stack, "target": target.name, "destroyed": not codes}
    return Outcome(record=record, exit_code=worst(*codes), messages=messages)


def down_manifest(path: Path, progress: Progress, use: Deps | None = None) -> Outcome:
    """`perfenv down --manifest FILE`: finish what a cancelled or killed run left."""
    use = use or deps
    manifest = load_manifest_file(path)
    record = {"stack": manifest.stack, "target": manifest.target, "destroyed": True}
    store = use.store(manifest.state_url)
    current = store.get(registry_key(manifest.stack))
    if current is None and manifest.status == "done":
        return Outcome(record=record, messages=[f"{manifest.stack}: already torn down"])
    if current is not None:
        manifest = Manifest.model_validate(current)
    return _down(manifest, store, progress, use, copy=path)


def _down(
    manifest: Manifest, store: Store, progress: Progress, use: Deps, copy: Path | None = None
) -> Outcome:
    if manifest.alive():
        raise BadInput(
            f"{manifest.stack}: its run is still going (pid {manifest.pid} on {manifest.host}, "
            f"heartbeat {manifest.heartbeat}); stop it first, or wait for it"
        )
    target = target_for(manifest, use)
    if copy is not None and manifest.out_dir is None:
        manifest = manifest.model_copy(update={"out_dir": str(copy.parent)})
    writer = ManifestWriter(store, manifest.model_copy(update={"pid": os.getpid()}))
    policy = SignalPolicy()
    messages: list[str] = []
    with policy.installed():
        codes = _teardown_codes(target, manifest.stack, writer, policy, progress, messages)
    if policy.interrupted:
        codes.append(INTERRUPTED)
    record = {"stack": manifest.stack, "target": manifest.target, "destroyed": not codes}
    return Outcome(record=record, exit_code=worst(*codes), messages=messages)


# --- stacks and reap -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Ephemeral:
    """An ephemeral stack as the target lists it, joined with its registry entry."""

    name: str
    target: str
    tags: dict[str, str]
    created_at: datetime | None
    expires_at: datetime | None
    manifest: Manifest | None

    @property
    def ours(self) -> bool:
        """Carries perfenv's tags and an expiry: the only stacks reap may touch."""
        return (
            self.tags.get(f"{TAG}project") == PROJECT
            and self.tags.get(f"{TAG}stack") == self.name
            and self.expires_at is not None
        )

    def expired(self, at: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= at

    def row(self, at: datetime) -> dict[str, Any]:
        age = (at - self.created_at).total_seconds() if self.created_at else None
        left = (self.expires_at - at).total_seconds() if self.expires_at else None
        m = self.manifest
        return {
            "stack": self.name,
            "target": self.target,
            "release": self.tags.get(f"{TAG}release", ""),
            "owner": self.tags.get(f"{TAG}owner", ""),
            "status": m.status if m else "",
            "age": format_duration(age) if age is not None else "",
            "expires_at": iso(self.expires_at) if self.expires_at else "",
            "expires_in": (format_duration(left) if left > 0 else "expired")
            if left is not None
            else "",
            "heartbeat": m.heartbeat if m else "",
            "alive": m.alive(at) if m else False,
        }


def list_ephemeral(target_name: str | None, use: Deps | None = None) -> list[Ephemeral]:
    """Ephemeral stacks of the target, plus registry entries the target no longer lists."""
    use = use or deps
    target = use.target(target_name)
    manifests = {m.stack: m for m in registered(use.store()) if m.target == target.name}
    found: list[Ephemeral] = []
    for info in target.list_stacks():
        if info.expires_at is None and info.name not in manifests:
            continue  # long-lived
        found.append(_joined(info, manifests.pop(info.name, None)))
    for m in manifests.values():
        found.append(
            Ephemeral(
                name=m.stack,
                target=m.target,
                tags=m.tags,
                created_at=_parse_or_none(m.created_at),
                expires_at=m.expires,
                manifest=m,
            )
        )
    return sorted(found, key=lambda e: e.name)


def _joined(info: StackInfo, manifest: Manifest | None) -> Ephemeral:
    expires = info.expires_at or (manifest.expires if manifest else None)
    return Ephemeral(
        name=info.name,
        target=info.target,
        tags=info.tags or (manifest.tags if manifest else {}),
        created_at=info.created_at,
        expires_at=expires,
        manifest=manifest,
    )


def _parse_or_none(text: str) -> datetime | None:
    from cli.manifest import parse_iso

    try:
        return parse_iso(text)
    except ValueError:
        return None


def stacks(target_name: str | None, expired: bool, use: Deps | None = None) -> list[dict[str, Any]]:
    at = now()
    return [e.row(at) for e in list_ephemeral(target_name, use) if not expired or e.expired(at)]


def reap(
    target_name: str | None, yes: bool, progress: Progress, use: Deps | None = None
) -> Outcome:
    """Expired stacks with perfenv's tags: listed (dry run) or destroyed (`yes`)."""
    use = use or deps
    at = now()
    rows: list[dict[str, Any]] = []
    codes: list[int] = []
    messages: list[str] = []
    candidates = [e for e in list_ephemeral(target_name, use) if e.ours and e.expired(at)]
    policy = SignalPolicy()
    with policy.installed():
        for eph in candidates:
            row = {"stack": eph.name, "release": eph.tags.get(f"{TAG}release", "")}
            row["expires_at"] = iso(eph.expires_at) if eph.expires_at else ""
            if eph.manifest is not None and eph.manifest.alive(at):
                rows.append(row | {"action": "skipped: heartbeat fresh"})
                continue
            if not yes:
                rows.append(row | {"action": "would destroy"})
                continue
            if policy.interrupted:
                rows.append(row | {"action": "skipped: interrupted"})
                continue
            target = target_for(eph.manifest, use) if eph.manifest else use.target(eph.target)
            store = use.store()
            writer = (
                ManifestWriter(store, eph.manifest.model_copy(update={"pid": os.getpid()}))
                if eph.manifest
                else None
            )
            got = _teardown_codes(target, eph.name, writer, policy, progress, messages)
            codes += got
            rows.append(row | {"action": "destroyed" if not got else "failed"})
            if INTERRUPTED in got:
                break
    if policy.interrupted:
        codes.append(INTERRUPTED)
    return Outcome(record=rows, exit_code=worst(*codes), messages=messages)
