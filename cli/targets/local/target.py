"""`LocalTarget`: stacks realized in the embedded emulator, apps run as local processes."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

from perfenv.cli.detached import child_env
from perfenv.cli.errors import BadInput, InfraError
from perfenv.cli.project import root
from perfenv.cli.state import phases
from perfenv.cli.targets.base import Progress, StackInfo, UpResult
from perfenv.cli.targets.generator import generator_hosts
from perfenv.cli.targets.local import emulator, fleet, state
from perfenv.cli.targets.local.controller import launch
from perfenv.cli.targets.local.controller.spec import GROUP_TYPE
from perfenv.cli.targets.local.deletion import delete_all, prepare_clients
from perfenv.cli.targets.local.state import StackState
from perfenv.cli.targets.probe import Probe
from perfenv.cli.targets.telemetry import TelemetryReader
from perfenv.cli.verdict.generators import GeneratorHosts
from perfenv.infra.config import StackFile
from perfenv.infra.project import PROJECT_ENV

WORKER_TIMEOUT_S = 300.0
WORKER_STOP_TIMEOUT_S = 10.0
# Where to look for a stack whose state is gone: the shipped stacks' regions.
FALLBACK_REGIONS = {"eu-west-1", "us-east-1"}


class LocalTarget:
    name = "local"

    # --- up ---------------------------------------------------------------------------------

    def preflight(self, config: StackFile, progress: Progress) -> None:
        """Nothing to check: the emulator needs no account, tool or quota."""

    def up(
        self, stack: str, config: StackFile, tags: dict[str, str], progress: Progress
    ) -> UpResult:
        if state.exists(stack):
            raise BadInput(f"stack {stack} is already up; down it first")
        with phases.phase("up/emulator"):
            endpoint = emulator.ensure_running()
        progress(f"local emulator at {endpoint}")
        stack_state = StackState(
            stack=stack, endpoint=endpoint, tags=dict(tags), expires_at=state.parse_expiry(tags)
        )
        try:
            with open(state.path_of(stack), "x"):  # claim the name: a concurrent up gets exit 2
                pass
        except FileExistsError:
            raise BadInput(f"stack {stack} is already up; down it first") from None
        state.save(stack_state)
        app = config.environment.app if config.environment is not None else None
        try:
            if app is not None:  # it starts while the program is evaluated, then waits for it
                controller = launch.spawn(stack_state)
            self._evaluate(stack, config, tags, endpoint, progress)
            stack_state = state.load(stack)
            if app is not None:
                with phases.phase("up/health"):  # the fleet in service, healthy behind balancers
                    url = launch.start(
                        stack_state, controller, app.local_command, _region(config), progress
                    )
                stack_state.outputs["service_url"] = url
                progress(f"the fleet is in service behind the balancer at {url}")
            stack_state.status = "up"
            state.save(stack_state)
        except BaseException as exc:
            fleet.stop_stack(stack, stack_state.processes)  # destroy would too; why wait
            with contextlib.suppress(Exception):
                failed = state.load(stack)
                failed.status, failed.error = "failed", str(exc) or type(exc).__name__
                state.save(failed)
            raise
        realized = [r for r in stack_state.resources if not r.provider]
        return UpResult(
            stack=stack,
            outputs=dict(stack_state.outputs),
            resources=len(realized),
            simulated=[f"{r.type} {r.name}" for r in realized if r.simulated],
        )

    def _evaluate(
        self, stack: str, config: StackFile, tags: dict[str, str], endpoint: str, progress: Progress
    ) -> None:
        request = {
            "stack": stack,
            "config": config.model_dump(mode="json"),
            "tags": tags,
            "endpoint": endpoint,
            "region": _region(config),
        }
        log_path = state.stacks_dir() / f"{stack}.worker.log"
        started = first = time.perf_counter()
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "perfenv.cli.targets.local.worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=root(),
                env=child_env({**os.environ, PROJECT_ENV: str(root()), "PYTHONUNBUFFERED": "1"}),
                start_new_session=True,  # our signal handling decides what it receives
            )
            # A worker that hangs (a stuck emulator call) is stopped; its output then ends.
            timed_out = threading.Event()

            def expire() -> None:
                timed_out.set()
                fleet.terminate(proc.pid, WORKER_STOP_TIMEOUT_S)

            watchdog = threading.Timer(WORKER_TIMEOUT_S, expire)
            watchdog.start()
            try:
                assert proc.stdin is not None and proc.stdout is not None
                proc.stdin.write(json.dumps(request).encode())
                proc.stdin.close()
                for raw in proc.stdout:
                    if first == started:  # the first resource: interpreter and imports are done
                        first = time.perf_counter()
                    progress(raw.decode(errors="replace").rstrip())
                code = proc.wait()
            except BaseException:
                # SIGTERM lets creates in flight finish and be recorded before it exits.
                fleet.terminate(proc.pid, timeout_s=WORKER_STOP_TIMEOUT_S)
                raise
            finally:
                watchdog.cancel()
        phases.add("up/evaluation", first - started)  # start-up, imports, the program's start
        phases.add("up/realization", time.perf_counter() - first)  # resources as registered
        if timed_out.is_set():
            raise InfraError(f"local up of {stack} did not finish within {WORKER_TIMEOUT_S:.0f}s")
        if code != 0:
            raise InfraError(f"local up of {stack} failed: {_last_error(log_path)}")

    # --- destroy ----------------------------------------------------------------------------

    def destroy(self, stack: str, progress: Progress) -> None:
        if not state.exists(stack):
            return
        stack_state = state.load(stack)
        if stack_state.worker is not None and fleet.alive(stack_state.worker):
            # An up whose CLI died may still be creating: stop it (it records what it made).
            progress(f"stopping the unfinished up (worker {stack_state.worker.pid})")
            fleet.terminate(stack_state.worker.pid, timeout_s=WORKER_STOP_TIMEOUT_S)
            stack_state = state.load(stack)
        stack_state.status = "destroying"
        state.save(stack_state)
        live = fleet.live_pids(stack, stack_state.processes)
        if live:
            progress(f"stopping the stack's {len(live)} process(es): controller, balancers, apps")
        endpoint = emulator.endpoint()
        clients = threading.Thread(  # ready when the processes are gone
            target=prepare_clients, args=(stack_state, endpoint), name="perfenv-clients"
        )
        if endpoint == stack_state.endpoint:
            clients.start()
        fleet.stop_stack(stack, stack_state.processes)
        if endpoint != stack_state.endpoint:
            # The emulator that held this stack is gone, and its resources with its memory.
            progress("the emulator that held this stack is gone; nothing left to delete there")
        else:
            clients.join()
            delete_all(stack_state, endpoint, progress)
        stack_state.status = "destroyed"
        state.save(stack_state)

    # --- queries ----------------------------------------------------------------------------

    def outputs(self, stack: str) -> dict[str, Any]:
        return dict(state.load(stack).outputs)

    def list_stacks(self) -> list[StackInfo]:
        infos = []
        for name in state.names():
            with contextlib.suppress(InfraError):  # a file being written right now
                stack_state = state.load(name)
                infos.append(
                    StackInfo(
                        name=name,
                        target=self.name,
                        tags=dict(stack_state.tags),
                        created_at=stack_state.created_at,
                        expires_at=stack_state.expires_at,
                    )
                )
        return infos

    def leftovers(self, stack: str) -> list[str]:
        from perfenv.cli.targets.local import leftovers

        stack_state = state.load(stack) if state.exists(stack) else None
        recorded = stack_state.processes if stack_state else []
        found = [f"process {pid}" for pid in fleet.live_pids(stack, recorded)]
        live = emulator.endpoint()
        if live is not None:
            regions = stack_state.regions() if stack_state else set()
            records = stack_state.resources if stack_state else []
            found += leftovers.in_emulator(live, stack, regions or FALLBACK_REGIONS, records)
        return found

    def probe(self, stack: str) -> Probe | None:
        from perfenv.cli.targets.local.probe import local_probe

        return local_probe(stack)

    def generator(self, stack: str) -> GeneratorHosts | None:
        """The emulator's load generator instances; their Locust processes run here."""
        from perfenv.cli.targets.local.realize import Clients

        if not state.exists(stack):
            return None
        stack_state = state.load(stack)
        regions = [r.region for r in stack_state.resources if r.type == GROUP_TYPE and r.region]
        if not regions:
            return None
        factory = Clients(stack_state.endpoint)
        return generator_hosts(lambda service: factory(service, regions[0]), stack_state.outputs)

    def telemetry(self, stack: str) -> TelemetryReader | None:
        from perfenv.cli.targets.local.telemetry import JournalTelemetry

        if not state.exists(stack) or not state.load(stack).processes:
            return None  # no controller: nothing journals the server side
        return JournalTelemetry(state.telemetry_path(stack))

    def remove(self, stack: str) -> None:
        state.remove(stack)
        logs = state.stacks_dir()
        (logs / f"{stack}.worker.log").unlink(missing_ok=True)


def _region(config: StackFile) -> str:
    """The stack's own region: where resources go unless their provider says otherwise."""
    for section in (config.environment, config.cost):
        if section is not None:
            return section.region
    return "us-east-1"


def _last_error(log_path: Any) -> str:
    lines = [line for line in open(log_path, errors="replace").read().splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("perfenv-worker: "):
            return line.removeprefix("perfenv-worker: ")
    return lines[-1] if lines else f"no output; see {log_path}"
