"""The subprocess that evaluates the infra program with the emulator's mocks.

`python -m perfenv.cli.targets.local.worker` reads one JSON request on stdin ({"stack", "config",
"tags", "endpoint", "region"}), so Pulumi's runtime state never lives in the CLI process. The
stack state file (created by the caller) gains each resource as soon as it exists. Progress
goes to stdout, one line per resource; a failure is the last line on stderr and exit 3
(130 when stopped by SIGTERM or by the death of the CLI that started it).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import traceback
from typing import TYPE_CHECKING, Any

from perfenv.cli.detached import end_process
from perfenv.cli.targets.local import state
from perfenv.cli.targets.local.fleet import start_time
from perfenv.cli.targets.local.state import ProcessRecord, ResourceRecord, StackState

if TYPE_CHECKING:  # the worker imports pulumi only once it runs
    from perfenv.cli.targets.local.mocks import EmulatorMocks

FAILED = 3
INTERRUPTED = 130
PARENT_POLL_S = 0.2
STOP_TIMEOUT_S = 8.0


class Recorder:
    """Appends each created resource to the state file, as it happens."""

    def __init__(self, stack_state: StackState) -> None:
        self.state = stack_state
        self.lock = threading.Lock()

    def __call__(self, record: ResourceRecord) -> None:
        with self.lock:
            self.state.resources.append(record)
            state.save(self.state)
            kind = "simulated" if record.simulated else "recorded" if record.provider else "created"
            print(f"{kind} {record.type} {record.name}", flush=True)


def stop_on_signal_or_orphaning(mocks: EmulatorMocks) -> None:
    """SIGTERM, or the death of the CLI that started us, ends the worker as soon as the creates
    in flight are recorded, so destroy knows about everything that exists."""
    parent = os.getppid()
    wake = threading.Event()

    def watch() -> None:
        while not wake.wait(PARENT_POLL_S) and os.getppid() == parent:
            pass
        finished = mocks.stop_creating(timeout_s=STOP_TIMEOUT_S)
        print(
            "perfenv-worker: interrupted" + ("" if finished else " (creates still in flight)"),
            file=sys.stderr,
            flush=True,
        )
        os._exit(INTERRUPTED)

    signal.signal(signal.SIGTERM, lambda signum, frame: wake.set())
    threading.Thread(target=watch, daemon=True).start()


def jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def run(request: dict[str, Any]) -> None:
    from perfenv.cli.program.evaluate import evaluate
    from perfenv.cli.targets.local.mocks import EmulatorMocks
    from perfenv.infra.config import StackFile

    stack = str(request["stack"])
    stack_file = StackFile.model_validate(request["config"])
    stack_state = state.load(stack)
    pid = os.getpid()
    stack_state.worker = ProcessRecord(
        pid=pid, started=start_time(pid) or "", port=0, command=sys.argv, log=""
    )
    state.save(stack_state)
    recorder = Recorder(stack_state)
    mocks = EmulatorMocks(request["endpoint"], request["region"], request["tags"], recorder)
    stop_on_signal_or_orphaning(mocks)
    evaluation = evaluate(stack_file, stack, mocks)
    with recorder.lock:
        by_id = {(r.type, r.name, r.id): r for r in evaluation.resources}
        for record in stack_state.resources:
            evaluated = by_id.get((record.type, record.name, record.id))
            if evaluated is not None:
                record.urn = evaluated.urn
                record.dependencies = list(evaluated.dependencies)
        stack_state.outputs = jsonable(evaluation.outputs)
        state.save(stack_state)


def main() -> None:
    try:
        run(json.loads(sys.stdin.read()))
    except Exception as exc:  # the caller turns the last line into its InfraError
        traceback.print_exc(file=sys.stderr)
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"perfenv-worker: {message}", file=sys.stderr, flush=True)
        end_process(FAILED)
    end_process(0)  # the state is saved: tearing down pulumi's modules would take seconds


if __name__ == "__main__":
    main()
