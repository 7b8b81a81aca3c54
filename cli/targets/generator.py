"""The stack's load generator instances in service, from its two groups (both targets).

The program exports the groups' names (`generator_master_group`, `generator_workers_group`);
their in-service instances are the master and the workers a run's plan goes to. No groups, or
no worker in service (a stack sized to zero workers): None, the engine runs the plan in
processes of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from perfenv.cli.errors import InfraError
from perfenv.cli.verdict.generators import GeneratorHosts

MASTER_OUTPUT = "generator_master_group"
WORKERS_OUTPUT = "generator_workers_group"


def generator_hosts(
    clients: Callable[[str], Any], outputs: dict[str, Any]
) -> GeneratorHosts | None:
    master_group, workers_group = outputs.get(MASTER_OUTPUT), outputs.get(WORKERS_OUTPUT)
    if not master_group or not workers_group:
        return None
    found = clients("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[str(master_group), str(workers_group)]
    )["AutoScalingGroups"]
    in_service = {
        group["AutoScalingGroupName"]: sorted(
            i["InstanceId"] for i in group["Instances"] if i["LifecycleState"] == "InService"
        )
        for group in found
    }
    workers = in_service.get(str(workers_group), [])
    if not workers:
        return None
    masters = in_service.get(str(master_group), [])
    if not masters:
        raise InfraError(f"the load generator's group {master_group} has no instance in service")
    return GeneratorHosts(master=masters[0], workers=tuple(workers))
