"""Running a suite against a URL: plan, measure, judge, compare, report, store.

`run_suite` is what `perfenv test` and the ephemeral `perfenv run` both call. It writes the four
files into the out dir, stores results under the release, and returns the outcome; the caller
decides what to print. Progress goes through callbacks so that this layer stays UI-free.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from perfenv.cli.compare import check_release, compare_results, previous_release, resolve
from perfenv.cli.engine import hosts
from perfenv.cli.engine.hosts import Pins
from perfenv.cli.errors import BadInput, InvalidMeasurement
from perfenv.cli.lifecycle import watch
from perfenv.cli.program.shape import url_shape
from perfenv.cli.state.results import URL_TARGET, put_results
from perfenv.cli.state.store import Store, open_store
from perfenv.cli.targets.probe import Probe
from perfenv.cli.targets.telemetry import TelemetryReader
from perfenv.cli.verdict.judge import exit_code, judge_suite
from perfenv.cli.verdict.measurement import (
    GeneratorHealth,
    LoadPlan,
    Run,
    ScenarioMeasurement,
    Window,
)
from perfenv.cli.verdict.results import build_results, server_section, write_results
from perfenv.cli.verdict.suite import Suite, load_suite, planned_duration_s

__all__ = ["SuiteOutcome", "Tick", "check_url", "load_suite", "planned_duration_s", "run_suite"]


@dataclass(frozen=True, kw_only=True)
class Tick:
    """One measured second, for a progress display."""

    scenario: str
    attempt: int  # 1-based repeat
    repeat: int
    planned_s: int
    window: Window


@dataclass(frozen=True, kw_only=True)
class SuiteOutcome:
    exit_code: int
    verdict: str  # pass | fail | invalid (the budgets); a regression shows in comparison
    results_path: Path
    comparison: dict[str, Any] | None
    run_id: str
    stored_as: str | None  # the state-store key, when a release was given
    results: dict[str, Any]


def check_url(url: str, allowed_hosts: tuple[str, ...] = ()) -> Pins:
    """The addresses `url`'s host resolves to, when every one may take load (loopback, or
    allowed by the suite's `allowed_hosts`: cli/engine/hosts.py); else BadInput (exit 2).
    The generator connects to these addresses only."""
    parsed = urlparse(url)
    try:
        host, port = parsed.hostname, parsed.port
    except ValueError:
        host = port = None
    if parsed.scheme not in ("http", "https") or not host:
        raise BadInput(f"--url: expected http(s)://HOST[:PORT], got {url!r}")
    try:
        addresses = hosts.resolve(host, port)
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise BadInput(f"--url: cannot resolve {host}: {reason}") from None
    why = hosts.refusal(host, addresses, allowed_hosts)
    if why:
        raise BadInput(f"--url: {why}")
    return {host.lower().rstrip("."): addresses}


def new_run_id() -> str:
    """Sortable by time: `20261127T140501Z-3fa9c1`."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _measure(
    suite: Suite,
    plan: LoadPlan,
    out_dir: Path,
    attempt: int,
    on_window: Callable[[Window], None] | None,
) -> list[Run]:
    try:
        if suite.engine == "command":
            from perfenv.cli.engine.command import run_command

            return run_command(suite, plan, out_dir / "command", attempt=attempt)
        from perfenv.cli.engine import run_plan  # the load engine: Locust in its own processes

        return [run_plan(plan, on_window)]
    except InvalidMeasurement as exc:
        # Still judged and reported: an invalid scenario, with the reason, never a pass.
        return [_unmeasured(plan, str(exc))]


def _unmeasured(plan: LoadPlan, reason: str) -> ScenarioMeasurement:
    return ScenarioMeasurement(
        scenario=plan.scenario,
        started_at=_now(),
        warmup_s=plan.warmup_s,
        windows=(),
        endpoints={},
        errors_by_kind={},
        generator=GeneratorHealth(valid=False, reason=reason, planned=plan.planned_requests),
    )


def _baseline(
    baseline: str,
    release: str | None,
    suite: Suite,
    target: tuple[str, dict[str, Any] | None],
    store: Store,
) -> tuple[str, dict[str, Any]] | None:
    """The baseline document: only ever a result of the same suite and target kind.

    `auto` (the default with a release) is the latest earlier release of the suite; without a
    release nothing is compared unless a baseline is named."""
    kind, shape = target
    fingerprint = (shape or {}).get("fingerprint")
    if baseline == "none":
        return None
    if baseline == "auto":
        previous = previous_release(store, release, suite.name, kind)
        if previous is None:
            return None
        return resolve(previous, store, suite.name, kind, fingerprint)
    return resolve(baseline, store, suite.name, kind, fingerprint)


def _server(
    reader: TelemetryReader, windows: list[tuple[str, int, list[Run], float, float]]
) -> dict[str, Any]:
    """Each scenario run's window (from its start to the end of its drain), as the server saw it."""
    reader.settle(max(end for *_, end in windows))
    return server_section(
        [
            (name, attempt, measured[0].started_at if measured else "", reader.read(start, end))
            for name, attempt, measured, start, end in windows
        ]
    )


def run_suite(
    suite: Suite,
    base_url: str,
    out_dir: Path,
    *,
    release: str | None = None,
    workers: int = 0,
    repeat: int = 1,
    baseline: str | None = None,
    target_kind: str = URL_TARGET,
    shape: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    tick: Callable[[Tick], None] | None = None,
    store: Store | None = None,
    probe: Probe | None = None,
    server: TelemetryReader | None = None,
) -> SuiteOutcome:
    """Run every scenario `repeat` times against `base_url`; judge, compare, report, store.

    `target_kind` (local, aws, or url) and `shape` (`perfenv.cli.program.shape`; for a URL, its
    origin) are stored with the results and select the baseline. `probe` watches the stack's
    environment during each scenario (scale and failover scenarios need one). `server`: the
    stack's telemetry, read for each scenario run's window into results.json's `server` section
    (what the balancer and the fleet saw beside what the client saw)."""
    say = progress or (lambda _message: None)
    if release is not None:
        check_release(release)
    if repeat < 1:
        raise BadInput("--repeat: must be >= 1")
    if workers < 0:
        raise BadInput("--workers: must be >= 0")
    watch.check(suite.scenarios, probe)
    store = store or open_store()
    pins: Pins = {}
    if target_kind == URL_TARGET:  # a stack's own service_url needs no guard
        pins = check_url(base_url, suite.allowed_hosts)
        shape = shape or url_shape(base_url)
    mode = baseline or ("auto" if release is not None else "none")
    found = _baseline(mode, release, suite, (target_kind, shape), store)  # fails before any load
    out_dir.mkdir(parents=True, exist_ok=True)
    run_id, started_at = new_run_id(), _now()

    plans = {s.name: suite.plan(s, base_url, workers=workers, pins=pins) for s in suite.scenarios}
    runs: dict[str, list[Run]] = {}
    watching = watch.Watch(probe, say)
    windows: list[tuple[str, int, list[Run], float, float]] = []
    for scenario in watch.ordered(suite.scenarios):
        plan = plans[scenario.name]
        for attempt in range(1, repeat + 1):
            again = f" (run {attempt}/{repeat})" if repeat > 1 else ""
            say(
                f"scenario {scenario.name}{again}: {getattr(scenario, 'kind', 'load')}, "
                f"{plan.duration_s}s, {plan.planned_requests} requests planned"
            )

            cue = watching.begin(scenario)

            def on_window(
                window: Window,
                _name: str = scenario.name,
                _n: int = attempt,
                _cue: Callable[[Window], None] = cue,
            ) -> None:
                _cue(window)
                if tick is not None:
                    tick(
                        Tick(
                            scenario=_name,
                            attempt=_n,
                            repeat=repeat,
                            planned_s=plans[_name].duration_s,
                            window=window,
                        )
                    )

            begun = time.time()
            measured = _measure(suite, plan, out_dir, attempt, on_window)
            watching.end(scenario, measured)
            runs.setdefault(scenario.name, []).extend(measured)
            windows.append((scenario.name, attempt, measured, begun, time.time()))

    verdict = judge_suite(suite, runs, watching.events)
    if server is not None and windows:
        say("reading the server side (balancer, fleet) for each scenario")
        extra = {**(extra or {}), "server": _server(server, windows)}
    finished_at = _now()

    doc = build_results(
        suite=suite,
        verdict=verdict,
        plans=plans,
        runs=runs,
        run_id=run_id,
        target={"url": base_url, "kind": target_kind, "shape": shape},
        release=release,
        started_at=started_at,
        finished_at=finished_at,
        exit_code=verdict.exit_code,
        extra=extra,
    )
    comparison = None
    if found is None and mode != "none":
        say(f"no baseline for suite {suite.name} on {target_kind}: nothing to compare with")
    if found is not None:
        label, base_doc = found
        comparison = compare_results(
            base_doc, doc, baseline_label=label, candidate_label=release or run_id
        )
        note = comparison["environment"]["note"]
        say(f"comparing with {label}" + (f" ({note})" if note else ""))
    code = exit_code(verdict, bool(comparison and comparison["regressed"]))
    doc["exit_code"] = code
    if comparison is not None:
        doc["comparison"] = comparison

    from perfenv.cli.reports import write_reports  # matplotlib loads only when reports are written

    results_path = out_dir / "results.json"
    write_results(doc, results_path)
    write_reports(doc, out_dir)
    stored_as = None
    if release is not None:
        stored_as = put_results(store, doc)
        say(f"stored results as {stored_as} in {store.url}")
    return SuiteOutcome(
        exit_code=code,
        verdict=verdict.verdict,
        results_path=results_path,
        comparison=comparison,
        run_id=run_id,
        stored_as=stored_as,
        results=doc,
    )
