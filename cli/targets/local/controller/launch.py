"""How `up` starts a stack's controller (the CLI's side): early, beside the program's evaluation
(see `early.py`), then given its spec once the resources exist, and waited on until its fleet is
in service and healthy behind the balancers."""

from __future__ import annotations

import sys
import time

from perfenv.cli.errors import InfraError
from perfenv.cli.targets.base import Progress
from perfenv.cli.targets.local import fleet, state
from perfenv.cli.targets.local.controller.early import write_spec
from perfenv.cli.targets.local.controller.spec import spec_for
from perfenv.cli.targets.local.state import ProcessRecord, StackState

READY_TIMEOUT_S = 60.0
POLL_S = 0.05
SPEC_FILE = "controller-spec.json"


def spawn(stack_state: StackState) -> ProcessRecord:
    """Start the stack's controller, recorded before the worker runs: it waits for its spec,
    and destroy stops it like every process of the stack."""
    stack = stack_state.stack
    process = fleet.spawn(
        [sys.executable, "-m", fleet.CONTROLLER_MODULE, str(state.run_dir(stack) / SPEC_FILE)]
        + [stack],
        state.run_dir(stack) / "controller.log",
        0,
        stack,
    )
    stack_state.processes = [process]
    state.save(stack_state)
    return process


def start(
    stack_state: StackState,
    process: ProcessRecord,
    command: list[str],
    region: str,
    progress: Progress,
) -> str:
    """Give the controller its spec; wait until its fleet is in service and healthy behind the
    balancers. Returns the service's balancer URL."""
    stack = stack_state.stack
    spec = spec_for(stack, stack_state.endpoint, region, command, stack_state.resources)
    write_spec(state.run_dir(stack) / SPEC_FILE, spec.to_json())
    progress(f"starting the fleet and balancers (controller pid {process.pid})")
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        controller = state.load_controller(stack)
        if controller is not None and controller.status == "ready":
            if not controller.balancers:
                raise InfraError(f"{stack}: no load balancer listener forwards to the app")
            return f"http://127.0.0.1:{controller.balancers[0].process.port}"
        if controller is not None and controller.status == "failed":
            raise InfraError(f"{stack}: the stack's controller failed: {controller.error}")
        if not fleet.alive(process):
            raise InfraError(f"{stack}: the stack's controller exited; see {process.log}")
        time.sleep(POLL_S)
    raise InfraError(
        f"{stack}: the fleet was not in service and healthy within "
        f"{READY_TIMEOUT_S:.0f}s; see {process.log}"
    )
