"""The local target's probe: the stack's environment watched during a scenario (see
`perfenv.cli.targets.probe`), and a failover's loss as a hardware failure would be: the
instance's app process killed with SIGKILL, then the instance terminated in the emulator.
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import Any

from perfenv.cli.targets.local import fleet, state
from perfenv.cli.targets.local.controller.spec import GROUP_TYPE
from perfenv.cli.targets.probe import Probe, serving_groups, stack_alarms


def local_probe(stack: str) -> Probe | None:
    """None for a stack that is not up with a controller (nothing behaves to watch)."""
    from perfenv.cli.targets.local.realize import Clients

    if not state.exists(stack):
        return None
    stack_state = state.load(stack)
    groups = [
        r for r in stack_state.resources if r.type == GROUP_TYPE and not (r.deleted or r.simulated)
    ]
    if not stack_state.processes or not groups:  # no controller: nothing behaves
        return None
    region, factory = groups[0].region, Clients(stack_state.endpoint)

    def clients(service: str) -> Any:
        return factory(service, region)

    def lose(instance_id: str) -> None:
        controller = state.load_controller(stack)
        proc = controller.instances.get(instance_id) if controller is not None else None
        if proc is not None and fleet.alive(proc):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: the app and its children
        clients("ec2").terminate_instances(InstanceIds=[instance_id])

    names = serving_groups(clients, [g.id for g in groups])
    return Probe(clients, names, lose, stack_alarms(clients, stack, names))
