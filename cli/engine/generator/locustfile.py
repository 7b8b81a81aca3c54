"""The locustfile of perfenv's generator processes (`locust -f` it). Never imported by the CLI.

Each generator process (Locust's single process, or each worker) runs one `PerfenvDriver` user,
whose only task executes this process's share of the schedule (see run.py) and then stops the
process. Records reach the CLI through the out file: written directly by a single process, or
sent by the workers to the master as Locust custom messages and written there. The master quits
once every worker has reported its totals (see cli/engine/wire.py for the records).
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent  # type: ignore[import-untyped]
import locust.runners
from locust import User, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.runners import MasterRunner, WorkerRunner

from perfenv.cli.engine import wire
from perfenv.cli.engine.generator import pinning, pool_check
from perfenv.cli.engine.generator.run import Run
from perfenv.cli.engine.generator.senders import BuiltinMix, LocustfileTasks, Sender

PLAN: dict[str, Any] = json.loads(Path(os.environ[wire.PLAN_ENV]).read_text())
OUT = Path(os.environ[wire.OUT_ENV])
ROLE = os.environ[wire.ROLE_ENV]


def _write(record: wire.Record) -> None:
    with OUT.open("a", encoding="utf-8") as out:
        out.write(json.dumps(record, separators=(",", ":")) + "\n")


def _load_user_classes(path: str) -> list[type[Any]]:
    """The User classes of the user's locustfile, or exit after telling the CLI why not."""
    try:
        sys.path.insert(0, str(Path(path).resolve().parent))
        spec = importlib.util.spec_from_file_location("perfenv_user_locustfile", path)
        if spec is None or spec.loader is None:
            raise ImportError("not a Python file")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        classes = [
            value
            for value in vars(module).values()
            if inspect.isclass(value) and issubclass(value, User) and not value.abstract
        ]
        if not classes:
            raise ImportError("defines no User class")
    except Exception as exc:  # anything the user's file raises makes it unloadable
        _write({"type": "error", "kind": "locustfile", "message": f"{type(exc).__name__}: {exc}"})
        sys.exit(2)
    for cls in classes:
        cls.host = PLAN["base_url"]
        if issubclass(cls, FastHttpUser):
            cls.network_timeout = cls.connection_timeout = PLAN["timeout_s"]
            cls.max_redirects = 0  # a 3xx is the outcome, never followed
    return classes


pool_check.install()  # no yield inside a request's timed window
if PLAN["pins"]:  # before the user's file can look anything up
    pinning.install(PLAN["pins"], PLAN["allowed_hosts"])

# The master runs no users: it never loads the user's file.
USER_CLASSES = (
    _load_user_classes(PLAN["locustfile"]) if PLAN["locustfile"] and ROLE != "master" else []
)


def _emitter(environment: Any) -> Callable[[wire.Record], None]:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        return lambda record: runner.send_message(wire.MESSAGE_TYPE, record)
    return _write


def _sender(environment: Any, share: int) -> Callable[[int], Sender]:
    rng = random.Random(share)  # the same mix on every run of the plan

    def make(slots: int) -> Sender:
        if USER_CLASSES:
            return LocustfileTasks(USER_CLASSES, environment, rng)
        return BuiltinMix(PLAN, environment, slots, rng)

    return make


_DRIVING: list[bool] = []  # a process runs its share once, whatever Locust dispatches


class PerfenvDriver(User):
    """One per generator process: runs that process's share of the schedule, then stops."""

    @task
    def drive(self) -> None:
        environment = self.environment
        runner = environment.runner
        if _DRIVING:  # a second user here (a re-dispatch) must not run the share again
            gevent.sleep(3600)
            return
        _DRIVING.append(True)
        share = runner.worker_index if isinstance(runner, WorkerRunner) else 0
        emit = _emitter(environment)
        try:
            run = Run(PLAN, share, _sender(environment, share), emit)
            environment.events.request.add_listener(run.on_request)
            run.execute()
        except Exception as exc:  # reported to the CLI, which fails the run as InfraError
            emit({"type": "error", "proc": share, "kind": "driver", "message": repr(exc)})
        if not isinstance(runner, WorkerRunner):
            gevent.spawn(runner.quit)
        gevent.sleep(3600)  # the master (or the quit above) ends this process


def _master_ticks() -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    while True:
        gevent.sleep(1.0)
        wall2, cpu2 = time.perf_counter(), time.process_time()
        load = round(100 * (cpu2 - cpu) / max(1e-6, wall2 - wall), 1)
        _write({"type": "tick", "proc": wire.MASTER_PROC, "cpu": load, "loop_lag_ms": 0.0})
        wall, cpu = wall2, cpu2


def _on_init(environment: Any, **_: Any) -> None:
    """On the master: write the workers' records; quit once every worker is done."""
    runner = environment.runner
    if not isinstance(runner, MasterRunner):
        return
    # A worker that misses 3 heartbeats (a busy event loop) is declared missing and its users
    # re-dispatched to the others, which would run its share twice. Wait out the whole plan;
    # the CLI notices a worker that died.
    locust.runners.HEARTBEAT_LIVENESS = round(len(PLAN["rates"]) + 2 * PLAN["timeout_s"] + 60)
    done: set[int] = set()
    ticking: list[Any] = []

    def on_record(environment: Any, msg: Any, **_: Any) -> None:
        record = msg.data
        _write(record)
        if not ticking:
            ticking.append(gevent.spawn(_master_ticks))
        if record["type"] in ("done", "error"):
            done.add(record.get("proc", -2))
            if record["type"] == "error" or len(done) >= max(1, PLAN["workers"]):
                gevent.killall(ticking)
                gevent.spawn_later(0.2, runner.quit)

    runner.register_message(wire.MESSAGE_TYPE, on_record)


events.init.add_listener(_on_init)  # type: ignore[no-untyped-call]
