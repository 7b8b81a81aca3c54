"""`engine: command`: the user's own load tool, judged like ours.

perfenv runs the suite's `command` once per scenario (and repeat) with these variables set:

    PERFENV_TARGET_URL     the base URL under test
    PERFENV_RESULTS_PATH   where the command must write its results
    PERFENV_SCENARIO       the scenario's name
    PERFENV_DURATION_S     the scenario's planned duration in seconds
    PERFENV_RATE           the scenario's mean planned rate (req/s)
    PERFENV_PLAN_PATH      the whole plan (per-second rates, warmup) as JSON

and reads back either perfenv's results schema or a k6 `--summary-export` JSON (k6 also writes
one with `handleSummary`; both layouts are read). A k6 summary has percentiles, not histograms:
budgets are judged from its percentiles, and whatever it did not export is `invalid`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perfenv.cli.detached import spawn_detached
from perfenv.cli.errors import BadInput, InvalidMeasurement
from perfenv.cli.state.names import inside
from perfenv.cli.state.results import segment
from perfenv.cli.state.signals import stopping_children
from perfenv.cli.verdict.measurement import GeneratorHealth, LoadPlan, Run, Stats, SummaryRun
from perfenv.cli.verdict.suite import Suite

# Time a command may run beyond its scenario's planned duration before it is stopped.
GRACE_S = 300.0
# k6 trend statistics by our metric names.
_K6_TRENDS = {
    "p50": "med",
    "p90": "p(90)",
    "p95": "p(95)",
    "p99": "p(99)",
    "p999": "p(99.9)",
    "max": "max",
    "mean": "avg",
}


def _metric(metrics: dict[str, Any], name: str) -> dict[str, Any]:
    data = metrics.get(name) or {}
    # handleSummary JSON nests the numbers under "values"; --summary-export does not.
    values = data.get("values", data)
    return values if isinstance(values, dict) else {}


def from_k6_summary(scenario: str, data: dict[str, Any], plan: LoadPlan, started_at: str) -> Run:
    """A k6 summary (`--summary-export` or `handleSummary`) as a summary run."""
    metrics = data.get("metrics")
    if not isinstance(metrics, dict) or "http_req_duration" not in metrics:
        raise InvalidMeasurement(
            f"scenario {scenario}: the k6 summary has no http_req_duration metric"
        )
    duration = _metric(metrics, "http_req_duration")
    stats: Stats = {ours: _number(duration.get(theirs)) for ours, theirs in _K6_TRENDS.items()}
    requests = _number(_metric(metrics, "http_reqs").get("count")) or 0.0
    failed = _metric(metrics, "http_req_failed")
    error_rate = _number(failed.get("rate", failed.get("value")))
    errors = round(requests * error_rate) if error_rate is not None else 0
    planned = plan.planned_requests
    stats.update(
        {
            "planned": float(planned),
            "sent": requests,
            "ok": requests - errors,
            "errors": float(errors),
            "error_rate": error_rate,
            "throughput": requests / planned if planned else None,
            "achieved_rps": requests / plan.duration_s if plan.duration_s else None,
        }
    )
    dropped = _number(_metric(metrics, "dropped_iterations").get("count")) or 0.0
    valid = dropped <= 0.01 * max(planned, 1)
    reason = "" if valid else f"k6 dropped {dropped:.0f} of {planned} planned iterations"
    return SummaryRun(
        scenario=scenario,
        started_at=started_at,
        stats=stats,
        planned=planned,
        generator=GeneratorHealth(
            valid=valid, reason=reason, planned=planned, achieved=round(requests)
        ),
    )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def read_command_results(path: Path, scenario: str, plan: LoadPlan, started_at: str) -> list[Run]:
    """The runs in what the command wrote: our results schema or a k6 summary."""
    from perfenv.cli.verdict.results import runs_from_results

    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InvalidMeasurement(
            f"scenario {scenario}: the command wrote no results to PERFENV_RESULTS_PATH"
        ) from None
    except json.JSONDecodeError as exc:
        raise InvalidMeasurement(
            f"scenario {scenario}: {path.name} is not JSON (line {exc.lineno})"
        ) from None
    if not isinstance(data, dict):
        raise InvalidMeasurement(f"scenario {scenario}: {path.name} is not a results document")
    if "schema_version" in data:
        runs = runs_from_results(data)
        if scenario in runs:
            return runs[scenario]
        if len(runs) == 1:
            return next(iter(runs.values()))
        raise InvalidMeasurement(f"scenario {scenario}: {path.name} has no scenario of that name")
    return [from_k6_summary(scenario, data, plan, started_at)]


def run_command(suite: Suite, plan: LoadPlan, work_dir: Path, *, attempt: int = 1) -> list[Run]:
    """Run the suite's command for one scenario; its runs, judged like the locust engine's."""
    if not suite.command:
        raise BadInput("command: required when engine is command")
    work_dir.mkdir(parents=True, exist_ok=True)
    stem = f"command-{segment(plan.scenario)}-{attempt}"  # a scenario name is no path
    results_path = inside(work_dir, f"{stem}.json")
    plan_path = inside(work_dir, f"{stem}-plan.json")
    results_path.unlink(missing_ok=True)
    plan_path.write_text(
        json.dumps({"scenario": plan.scenario, "rates": plan.rates, "warmup_s": plan.warmup_s})
    )
    env = {
        **os.environ,
        "PERFENV_TARGET_URL": plan.base_url,
        "PERFENV_RESULTS_PATH": str(results_path),
        "PERFENV_SCENARIO": plan.scenario,
        "PERFENV_DURATION_S": str(plan.duration_s),
        "PERFENV_RATE": f"{sum(plan.rates) / max(1, plan.duration_s):g}",
        "PERFENV_PLAN_PATH": str(plan_path),
    }
    shell = isinstance(suite.command, str)
    args: str | list[str] = suite.command if isinstance(suite.command, str) else list(suite.command)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    log_path = inside(work_dir, f"{stem}.log")
    log_path.unlink(missing_ok=True)  # this run's output only
    try:
        proc = spawn_detached(args, log_path, env=env, shell=shell)
    except OSError as exc:
        raise BadInput(f"command: cannot run {args!r}: {exc.strerror}") from None
    try:
        code = proc.wait(timeout=plan.duration_s + GRACE_S)
    except subprocess.TimeoutExpired:
        _stop(proc)
        raise InvalidMeasurement(
            f"scenario {plan.scenario}: the command ran past its plan by {GRACE_S:g}s"
            f" and was stopped (log: {log_path})"
        ) from None
    except BaseException:
        _stop(proc)
        raise
    if shell and code == 127:
        raise BadInput(f"command: not found: {suite.command} (log: {log_path})")
    if not results_path.exists():
        raise InvalidMeasurement(
            f"scenario {plan.scenario}: the command exited {code} without writing results"
            f" (log: {log_path})"
        )
    return read_command_results(results_path, plan.scenario, plan, started_at)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the command and everything it started (its own session), by its process group;
    a signal to perfenv meanwhile waits for the stop (`stopping_children`)."""
    with stopping_children():
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
