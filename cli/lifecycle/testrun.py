"""Running a suite against a URL: plan, measure, judge, compare, report, store.

`run_suite` is what `perfenv test` and the ephemeral `perfenv run` both call. It writes the four
files into the out dir, stores results under the release, and returns the outcome; the caller
decides what to print. Progress goes through callbacks so that this layer stays UI-free.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from perfenv.cli.compare import check_release, compare_results, find_baseline
from perfenv.cli.compare.history import history
from perfenv.cli.engine import hosts
from perfenv.cli.engine.hosts import Pins
from perfenv.cli.errors import CHECK_FAILED, BadInput, worst
from perfenv.cli.lifecycle import watch
from perfenv.cli.lifecycle.checks import make_out_dir
from perfenv.cli.lifecycle.scenario_runs import Span, Tick, now, run_scenarios
from perfenv.cli.program.shape import url_shape
from perfenv.cli.state import phases
from perfenv.cli.state.results import URL_TARGET, put_results
from perfenv.cli.state.store import Store, open_store
from perfenv.cli.state.urls import redact_url
from perfenv.cli.targets.probe import Probe
from perfenv.cli.targets.telemetry import TelemetryReader
from perfenv.cli.verdict.capacity import MAX_TOO_LOW, capacity_lines, capacity_model, gate_failed
from perfenv.cli.verdict.generators import GeneratorHosts
from perfenv.cli.verdict.judge import exit_code, judge_suite
from perfenv.cli.verdict.results import build_results, server_section, write_results
from perfenv.cli.verdict.suite import Suite, load_suite, planned_duration_s
from perfenv.infra.config import EnvironmentConfig

HISTORY_RELEASES = 10  # releases in a run's trend section
OPEN_MODEL_NOTE = (
    "locustfile, open model: each arrival runs one iteration of a user's tasks (a TaskSet or "
    "SequentialTaskSet journey whole, with its wait_time between its tasks); the wait_time "
    "between iterations is replaced by the scenario's arrival rate"
)

__all__ = ["SuiteOutcome", "Tick", "check_url", "load_suite", "planned_duration_s", "run_suite"]


@dataclass(frozen=True, kw_only=True)
class SuiteOutcome:
    exit_code: int
    verdict: str  # pass | fail | invalid (the budgets); a regression shows in comparison
    results_path: Path
    comparison: dict[str, Any] | None
    run_id: str
    stored_as: str | None  # the state-store key, when a release was given
    results: dict[str, Any]
    # With `background_reports`: the four files (and the history they show) being written.
    reports: Future[list[Path]] | None = None


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
        raise BadInput(f"--url: expected http(s)://HOST[:PORT], got {redact_url(url)!r}")
    if "?" in url or "#" in url:  # the engine appends each request's path to it
        raise BadInput(f"--url: a base URL takes no query or fragment: {redact_url(url)}")
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


def _server(reader: TelemetryReader, windows: list[Span]) -> dict[str, Any]:
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
    repeat: int | None = None,
    baseline: str | None = None,
    target_kind: str = URL_TARGET,
    shape: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    tick: Callable[[Tick], None] | None = None,
    store: Store | None = None,
    probe: Probe | None = None,
    server: TelemetryReader | None = None,
    environment: EnvironmentConfig | None = None,
    background_reports: bool = False,
    generator: GeneratorHosts | None = None,
) -> SuiteOutcome:
    """Run the suite against `base_url` (its steady scenarios `repeat` times, default the
    suite's `repeat:`); judge, compare, report, store.

    `target_kind` (local, aws, or url) and `shape` (`perfenv.cli.program.shape`; for a URL, its
    origin) are stored with the results and select the baseline. `probe` watches the stack's
    environment during each scenario (scale and failover scenarios need one). `server`: the
    stack's telemetry, read for each scenario run's window into results.json's `server` section
    (what the balancer and the fleet saw beside what the client saw). `environment`: the stack's
    config, for the capacity model (and its gate) from a stress scenario. `background_reports`:
    the results are judged and stored before this returns; the four files (with the release
    history they show) are written in a thread (the outcome's `reports`), so that the caller
    can tear down meanwhile. `generator`: the stack's load generator instances, one Locust
    worker each (`workers` must be their number)."""
    say = progress or (lambda _message: None)
    if release is not None:
        check_release(release)
    repeat = suite.repeat if repeat is None else repeat
    if repeat < 1:
        raise BadInput("--repeat: must be >= 1")
    if workers < 0:
        raise BadInput("--workers: must be >= 0")
    watch.check(suite.scenarios, probe)
    store = store or open_store()
    pins: Pins = {}
    base_url = base_url.rstrip("/")  # the requests' paths start with one
    if target_kind == URL_TARGET:  # a stack's own service_url needs no guard
        pins = check_url(base_url, suite.allowed_hosts)
        shape = shape or url_shape(base_url)
    mode = baseline or ("auto" if release is not None else "none")
    fingerprint = (shape or {}).get("fingerprint")
    # A bad baseline fails before any load.
    found = find_baseline(store, mode, suite.name, target_kind, release, fingerprint)
    make_out_dir(out_dir)
    run_id, started_at = new_run_id(), now()

    plans = {s.name: suite.plan(s, base_url, workers=workers, pins=pins) for s in suite.scenarios}
    if suite.locustfile is not None:
        say(OPEN_MODEL_NOTE)
    if generator is not None:
        say(
            f"load generator: master {generator.master}, {len(generator.workers)} worker "
            f"instances ({', '.join(generator.workers)})"
        )
    watching = watch.Watch(probe, say)
    lap = phases.laps()
    measured = run_scenarios(
        suite,
        plans,
        out_dir,
        repeat=repeat,
        watching=watching,
        say=say,
        tick=tick,
        hosts=generator,
    )
    lap("suite/measure")
    runs = measured.runs
    verdict = judge_suite(suite, runs, watching.events, measured.aborted)
    if server is not None and measured.spans:
        say("reading the server side (balancer, fleet) for each scenario")
        extra = {**(extra or {}), "server": _server(server, measured.spans)}
        watch.alarms_into(extra["server"], watching.events)
    finished_at = now()

    doc = build_results(
        suite=suite,
        verdict=verdict,
        plans=plans,
        runs=runs,
        run_id=run_id,
        target={"url": redact_url(base_url), "kind": target_kind, "shape": shape},
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
    model = capacity_model(doc, environment)
    if model is not None:
        doc["capacity"] = model
        say("capacity: " + "; ".join(capacity_lines(model)[1:4]))
        if gate_failed(model):
            code = worst(code, CHECK_FAILED)
            say(f"capacity gate: {MAX_TOO_LOW} for the expected peak (capacity.gate: true)")
    doc["exit_code"] = code
    if comparison is not None:
        doc["comparison"] = comparison
    lap("suite/judging")  # the verdict, the server side, the comparison

    stored_as = None
    if release is not None:
        stored_as = put_results(store, doc)
        say(f"stored results as {stored_as} in {store.url}")
    lap("suite/store")
    results_path = out_dir / "results.json"

    def write_files() -> list[Path]:
        from perfenv.cli.reports import write_reports  # matplotlib loads only for reports

        if release is not None:
            # The reports show the suite's last releases, this one included (not stored: derived).
            doc["history"] = history(store, suite.name, target=target_kind, last=HISTORY_RELEASES)
        write_results(doc, results_path)
        return [results_path, *write_reports(doc, out_dir)]

    reports = None
    if background_reports:
        writer = ThreadPoolExecutor(1, "perfenv-reports")
        reports = writer.submit(write_files)
        writer.shutdown(wait=False)  # its thread ends with this one job
    else:
        write_files()
    lap("suite/reports")
    return SuiteOutcome(
        exit_code=code,
        verdict=verdict.verdict,
        results_path=results_path,
        comparison=comparison,
        run_id=run_id,
        stored_as=stored_as,
        results=doc,
        reports=reports,
    )
