"""The built-in load engine: Locust with FastHttpUser, open model, honest latencies.

`run_plan` executes one scenario's arrival schedule in Locust processes of their own (importing
Locust monkey-patches the standard library, so this process never does), reads back their
per-second HdrHistograms, merges them exactly and judges whether the generator delivered the
plan. `stop_all` kills the generator processes of every run in progress (for signal handlers).
See cli/engine/generator/ for how arrivals are sent and measured.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from perfenv.cli.engine import wire
from perfenv.cli.engine.merge import Collector
from perfenv.cli.engine.processes import STARTUP_S, Generator
from perfenv.cli.errors import BadInput, InfraError
from perfenv.cli.project import home
from perfenv.cli.verdict.abort import BudgetBreached
from perfenv.cli.verdict.generators import GeneratorHosts
from perfenv.cli.verdict.measurement import LoadPlan, ScenarioMeasurement, Window

__all__ = ["fail_on_error", "plan_json", "run_plan", "stop_all"]

POLL_S = 0.1
KEEP_ENV = "PERFENV_ENGINE_KEEP"  # set: keep the run's records and Locust logs for a look
_RUNNING: set[Generator] = set()


def stop_all() -> None:
    """Stop the generator processes of every run in progress (safe to call from a handler)."""
    for generator in list(_RUNNING):
        generator.stop(grace_s=1.0)
        _RUNNING.discard(generator)


def _check(plan: LoadPlan) -> None:
    where = f"scenario {plan.scenario}"
    if plan.duration_s == 0:
        raise BadInput(f"{where}: rates: the schedule is empty")
    if any(rate < 0 for rate in plan.rates):
        raise BadInput(f"{where}: rates: must be >= 0")
    if plan.workers < 0:
        raise BadInput(f"{where}: workers: must be >= 0")
    if plan.max_connections < 1 or plan.timeout_s <= 0:
        raise BadInput(f"{where}: max_connections and timeout_s must be > 0")
    if not plan.base_url.startswith(("http://", "https://")):
        raise BadInput(f"{where}: base_url: not an http(s) URL: {plan.base_url}")
    if plan.locustfile is not None:
        if not plan.locustfile.is_file():
            raise BadInput(f"{plan.locustfile}: no such locustfile")
        if plan.locustfile.suffix != ".py":
            raise BadInput(f"{plan.locustfile}: a locustfile must be a .py file")
    elif not plan.requests:
        raise BadInput(f"{where}: requests: no requests and no locustfile")


def plan_json(plan: LoadPlan, locustfile: str | None = None) -> str:
    """The plan as the generator processes read it; `locustfile`: where they find it, if not
    here."""
    data = dataclasses.asdict(plan)
    here = str(plan.locustfile.resolve()) if plan.locustfile else None
    data["locustfile"] = locustfile if plan.locustfile and locustfile else here
    data["requests"] = [
        {**dataclasses.asdict(spec), "endpoint": spec.endpoint} for spec in plan.requests
    ]
    return json.dumps(data)


def _read_records(path: Path, offset: int) -> tuple[list[wire.Record], int]:
    """Complete lines appended since `offset`, and the new offset."""
    try:
        with path.open("rb") as stream:
            stream.seek(offset)
            chunk = stream.read()
    except FileNotFoundError:
        return [], offset
    end = chunk.rfind(b"\n") + 1
    lines = chunk[:end].decode("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()], offset + end


def fail_on_error(collector: Collector, logs: object) -> None:
    """The generator's own error record as BadInput (the user's locustfile) or InfraError."""
    error = collector.error
    if error is None:
        return
    if error["kind"] == "locustfile":
        raise BadInput(f"{collector.plan.locustfile}: cannot load: {error['message']}")
    raise InfraError(f"load generator failed: {error['message']} (logs: {logs})")


def _collect(
    collector: Collector, generator: Generator, progress: Callable[[Window], None] | None
) -> None:
    plan = collector.plan
    offset = 0
    deadline = time.monotonic() + STARTUP_S + (10 if plan.workers else 0)
    finish_s = plan.duration_s + 2 * plan.timeout_s + 20
    was_started = False
    while not collector.complete:
        alive = generator.running()
        records, offset = _read_records(generator.out_file, offset)
        for record in records:
            for window in collector.add(record):
                if progress is not None:
                    progress(window)
        fail_on_error(collector, generator.workdir)
        if collector.complete:
            break
        if collector.started and not was_started:
            was_started, deadline = True, time.monotonic() + finish_s
        if not alive:
            raise InfraError(
                "the load generator exited before the end of the plan"
                f" ({generator.log_tail()}; logs: {generator.workdir})"
            )
        if time.monotonic() > deadline:
            step = "finish the plan" if was_started else f"start within {STARTUP_S:.0f} s"
            raise InfraError(
                f"the load generator did not {step}"
                f" ({generator.log_tail()}; logs: {generator.workdir})"
            )
        time.sleep(POLL_S)


def run_plan(
    plan: LoadPlan,
    progress: Callable[[Window], None] | None = None,
    hosts: GeneratorHosts | None = None,
) -> ScenarioMeasurement:
    """Run one scenario's schedule in Locust processes; `progress` gets each completed second.

    `hosts`: the stack's load generator instances, one Locust worker each (`plan.workers` of
    them). Their processes run here, named after the instances, unless the instances are
    remote: then the plan goes to them (`perfenv.cli.engine.remote`) and their records come
    back the same way; either way the records merge here, the same way.

    Raises BadInput for a missing or unloadable locustfile, InfraError when the generator
    processes cannot start or die. The processes are stopped however this returns (also on
    KeyboardInterrupt). When `progress` raises BudgetBreached, the processes are stopped at once
    and the exception carries what was measured until then.
    """
    _check(plan)
    names: tuple[str, ...] = ()
    if hosts is not None:
        if len(hosts.workers) != plan.workers:
            raise InfraError(
                f"the load generator has {len(hosts.workers)} worker instances in service; "
                f"the plan needs {plan.workers}"
            )
        names = hosts.workers
        if hosts.remote is not None:
            from perfenv.cli.engine.remote import run_remote

            return run_remote(plan, hosts.master, names, hosts.remote, progress)
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", plan.scenario)[:40]
    workdir = home() / "engine" / f"{slug}-{os.getpid()}-{time.time_ns()}"
    workdir.mkdir(parents=True)
    generator = Generator(plan, workdir, names)
    generator.plan_file.write_text(plan_json(plan))
    _RUNNING.add(generator)
    keep = bool(os.environ.get(KEEP_ENV))
    collector = Collector(plan=plan, drivers=max(1, plan.workers), names=names)
    try:
        generator.start()
        _collect(collector, generator, progress)
        generator.wait(timeout_s=10.0)  # they quit by themselves once the plan is done
    except BudgetBreached as breach:
        generator.stop(grace_s=0.0)
        measured = collector.measurement()
        breach.measurement = dataclasses.replace(measured, aborted=breach.breach.text)
        raise
    except InfraError:
        keep = True  # the error names this directory: its Locust logs say what happened
        raise
    finally:
        generator.stop()
        _RUNNING.discard(generator)
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return collector.measurement()
