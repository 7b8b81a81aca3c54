"""`perfenv run`: checks, manifest, up, health, suite, and always teardown.

The phases: docs/design.md#the-ephemeral-run.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfenv.cli.errors import (
    INTERNAL,
    INTERRUPTED,
    OK,
    BadInput,
    InfraError,
    PerfenvError,
    worst,
)
from perfenv.cli.lifecycle.checks import (
    check_ttl,
    cost_section,
    load_template,
    make_out_dir,
    parse_ttl,
    record_cost,
    run_out_dir,
    setup_margin_s,
)
from perfenv.cli.lifecycle.cleanup import guarded_teardown
from perfenv.cli.lifecycle.deps import Deps
from perfenv.cli.lifecycle.naming import (
    backend_of,
    new_stack_name,
    run_tags,
    sized_generator,
    with_run,
)
from perfenv.cli.lifecycle.run_report import RunOptions, RunReport
from perfenv.cli.program.shape import environment_shape
from perfenv.cli.state import phases
from perfenv.cli.state.manifest import new_manifest
from perfenv.cli.state.signals import SignalPolicy, StopRequested
from perfenv.cli.state.writer import Heartbeat, ManifestWriter
from perfenv.cli.targets.base import Progress, Target, UpResult
from perfenv.infra.config import StackFile

if TYPE_CHECKING:
    from perfenv.cli.cost.estimate import Estimate


def run(opts: RunOptions, progress: Progress, use: Deps) -> RunReport:
    """`perfenv run`: checks, manifest, up, suite, compare, and always teardown."""
    phases.reset()
    phases.add("startup", phases.since_process_start() or 0.0)  # interpreter and imports
    lap = phases.laps()
    # 1. Checks, before anything exists.
    ttl_s = parse_ttl(opts.ttl)
    template = load_template(opts.template)
    suite = use.load_suite(opts.suite)
    if opts.repeat is not None:  # the suite's own `repeat:` unless --repeat says otherwise
        suite = suite.model_copy(update={"repeat": opts.repeat})
    planned_s = use.planned_duration_s(suite)
    stack = new_stack_name(opts.release)
    out_dir = run_out_dir(opts.out_dir, stack)
    from perfenv.cli.cost.cap import peak_rate

    template = sized_generator(template, peak_rate(suite), opts.workers)
    workers = template.environment.load_generator.workers if template.environment else None
    estimate = use.check_cost(template, suite, stack=stack, cap_usd=opts.max_cost, workers=workers)
    use.check_parity(template)
    use.check_policies(template, progress)
    target = use.target(opts.target)
    account = target.preflight(template, progress)
    check_ttl(ttl_s, planned_s, setup_margin_s(target.name))
    use.check_baseline(opts.baseline, suite, use.store(), target.name)
    make_out_dir(out_dir)  # the last check: it creates the dir the manifest goes to
    lap("checks")
    opts = replace(opts, out_dir=out_dir)
    planned = _Planned(template, suite, ttl_s, stack, estimate, account)
    return _Run(opts, use, target, planned, progress).execute()


@dataclass(frozen=True)
class _Planned:
    """What the checks found: the run's template, suite, TTL, stack name, estimate, account."""

    template: StackFile
    suite: Any
    ttl_s: float
    stack: str
    estimate: Estimate | None
    account: str | None


class _Run:
    """One ephemeral run after its checks passed."""

    def __init__(
        self, opts: RunOptions, use: Deps, target: Target, planned: _Planned, progress: Progress
    ) -> None:
        assert opts.out_dir is not None
        self.opts, self.use, self.target, self.progress = opts, use, target, progress
        self.out_dir: Path = opts.out_dir
        self.template, self.suite, self.ttl_s = planned.template, planned.suite, planned.ttl_s
        self.stack, self.estimate, self.account = planned.stack, planned.estimate, planned.account
        self.bug: Exception | None = None
        self.reports: Future[Any] | None = None
        self.policy = SignalPolicy()
        self.report = RunReport(
            stack=self.stack, release=opts.release, target=target.name, out_dir=str(self.out_dir)
        )

    def execute(self) -> RunReport:
        codes: list[int] = []
        with self.policy.installed():
            lap = phases.laps()
            store = self.use.store()
            manifest = new_manifest(
                stack=self.stack,
                target=self.target.name,
                backend=backend_of(self.target),
                state_url=store.url,
                release=self.opts.release,
                tags={},
                ttl_s=self.ttl_s,
                out_dir=self.out_dir,
                account=self.account,
            )
            tags = run_tags(self.template, self.stack, self.opts.release, manifest.expires_at)
            # 2. The manifest, in the registry and the out dir, before anything is created.
            self.writer = ManifestWriter(store, manifest.model_copy(update={"tags": tags}))
            self.writer.write()
            record_cost(
                store, self.estimate, release=self.opts.release, target=self.target.name, tags=tags
            )
            self.progress(f"{self.stack}: manifest in {store.url} and {self.out_dir}")
            lap("manifest")
            with Heartbeat(self.writer):
                created = self._steps(tags, manifest.expires_at)
                codes.append(self.report.exit_code)
                if created:
                    with phases.phase("teardown"):
                        codes += self._finish()
                with phases.phase("reports"):
                    codes += self._await_reports()
        if self.policy.interrupted:
            codes.append(INTERRUPTED)
            self.report.messages.append(f"interrupted by {self.policy.signal_name}")
        self.report.exit_code = worst(*codes)
        self.report.status = self.writer.manifest.status
        self.report.timings = phases.elapsed()
        self.progress(phases.summary(self.report.timings))
        if self.bug is not None and self.report.exit_code == INTERNAL:
            raise self.bug  # torn down cleanly: the traceback is what is left to say
        return self.report

    def _steps(self, tags: dict[str, str], expires_at: str | None) -> bool:
        """Up, health, suite; sets the run's own exit code. False if nothing was created."""
        opts, report, policy = self.opts, self.report, self.policy
        state_url = self.writer.manifest.state_url
        config = with_run(
            self.template, self.stack, opts.release, expires_at, self.account, state_url
        )
        try:
            self.use.warm_up()  # the reports' imports, while this process waits on the target
            with policy.step("up"), phases.phase("up"):
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
            with policy.step("health"), phases.phase("health"):
                self.use.wait_healthy(url.rstrip("/") + config.environment.app.health_path)
            hosts = self.target.generator(self.stack)  # the plans go to its instances
            with policy.step("suite"), phases.phase("suite"):
                outcome = self.use.run_suite(
                    self.suite,
                    url,
                    self.out_dir,
                    release=opts.release,
                    workers=len(hosts.workers) if hosts else opts.workers or 0,
                    generator=hosts,
                    baseline=opts.baseline,
                    target_kind=self.target.name,
                    shape=environment_shape(config.environment),
                    environment=config.environment,
                    extra=self._extra(tags, up),
                    progress=self.progress,
                    server=self.target.telemetry(self.stack),
                    probe=self.target.probe(self.stack),
                    background_reports=True,  # drawn while the stack is torn down
                )
            self.reports = getattr(outcome, "reports", None)
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
        messages: list[str] = []
        result = guarded_teardown(
            self.target, stack, self.writer, self.policy, self.progress, messages
        )
        report.leftovers = result.leftovers
        report.messages += messages
        if failed and not (result.clean or result.abandoned):
            report.messages.append(f"and the run itself failed (exit {report.exit_code})")
        return [result.code]

    def _await_reports(self) -> list[int]:
        """The reports drawn beside the teardown are written before the run ends; a failure
        there is a bug (exit 70), surfaced like one that happened during the run."""
        if self.reports is None:
            return []
        try:
            self.reports.result()
        except Exception as exc:
            self.bug = self.bug or exc
            self.report.messages.append("internal error while writing the reports")
            return [INTERNAL]
        return []

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
