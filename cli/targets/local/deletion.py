"""Deleting a local stack's resources from the emulator: in waves, by dependency level.

A resource goes in the first wave after every resource that depends on it; the resources of
one wave depend on none of each other and are deleted concurrently. A delete refused (a
dependency the program's graph does not show, a throttled call) is retried in a later pass.
Without the program's graph (an up stopped before its resources got their URNs) each resource is
its own wave, in reverse creation order.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from perfenv.cli.errors import InfraError
from perfenv.cli.targets.base import Progress
from perfenv.cli.targets.local import state
from perfenv.cli.targets.local.state import ResourceRecord, StackState

DELETE_PASSES = 3  # a delete refused for a dependency is retried after the others
DELETE_THREADS = 8


def delete_all(stack_state: StackState, endpoint: str, progress: Progress) -> None:
    """Delete every realized resource; InfraError naming the first that would not go."""
    from perfenv.cli.targets.local.realize import Clients

    clients = Clients(endpoint)
    errors: dict[str, str] = {}
    with ThreadPoolExecutor(DELETE_THREADS, "perfenv-delete") as pool:
        for _ in range(DELETE_PASSES):
            errors = {}
            for wave in delete_waves(stack_state.resources):
                todo = [r for r in wave if _deletable(r)]
                for record, error in zip(
                    todo, pool.map(lambda r: _delete(r, clients), todo), strict=True
                ):
                    if error:
                        errors[f"{record.type} {record.id}"] = error
                        continue
                    record.deleted = True
                    progress(f"deleted {record.type} {record.name}")
                if todo:
                    state.save(stack_state)
            if not errors:
                break
    if errors:
        first = next(iter(errors.items()))
        raise InfraError(
            f"local destroy of {stack_state.stack}: {len(errors)} resource(s) not deleted; "
            f"first: {first[0]}: {first[1]}"
        )


# The service a resource's delete calls, where it is not the module of its type (aws:ec2/...).
_SERVICES = {"lb": "elbv2", "alb": "elbv2", "vpc": "ec2", "cloudwatch/logGroup": "logs"}


def prepare_clients(stack_state: StackState, endpoint: str) -> None:
    """Make the emulator clients the deletes will use (each loads its service's model, a tenth
    of a second or more): destroy calls this in a thread while the stack's processes stop."""
    from perfenv.cli.targets.local.realize import Clients

    clients = Clients(endpoint)
    for service, region in sorted(
        {(_service(r.type), r.region) for r in stack_state.resources if _deletable(r)}
    ):
        with contextlib.suppress(Exception):  # then its delete makes it, and says what failed
            clients(service, region)


def _service(type_: str) -> str:
    module = type_.split(":")[1]
    return _SERVICES.get(module) or _SERVICES.get(module.split("/")[0]) or module.split("/")[0]


def delete_waves(records: list[ResourceRecord]) -> list[list[ResourceRecord]]:
    """The records in waves: each after every wave holding a resource that depends on it."""
    if any(not r.urn for r in records):
        return [[r] for r in delete_order(records)]
    dependents: dict[str, set[str]] = {}
    for record in records:
        for dep in record.dependencies:
            if dep != record.urn:
                dependents.setdefault(dep, set()).add(record.urn)
    level: dict[str, int] = {}
    for record in delete_order(records):  # every dependent comes first: its level is known
        level[record.urn] = 1 + max(
            (level.get(d, -1) for d in dependents.get(record.urn, ())), default=-1
        )
    waves: list[list[ResourceRecord]] = [[] for _ in range(1 + max(level.values(), default=-1))]
    for record in reversed(records):
        waves[level[record.urn]].append(record)
    return waves


def delete_order(records: list[ResourceRecord]) -> list[ResourceRecord]:
    """Reverse creation order, adjusted so no resource goes before one that depends on it."""
    pending = list(reversed(records))
    dependents: dict[str, set[str]] = {}
    for record in records:
        for dep in record.dependencies:
            dependents.setdefault(dep, set()).add(record.urn)
    done: set[str] = set()
    ordered: list[ResourceRecord] = []
    while pending:
        ready = next(
            (
                r
                for r in pending
                if not r.urn or not (dependents.get(r.urn, set()) - done - {r.urn})
            ),
            pending[0],  # a cycle cannot happen in a Pulumi graph; never stall on one
        )
        pending.remove(ready)
        ordered.append(ready)
        done.add(ready.urn)
    return ordered


def _deletable(record: ResourceRecord) -> bool:
    from perfenv.cli.targets.local.realize import handler_for

    return not (record.deleted or record.provider or record.simulated) and (
        handler_for(record.type) is not None
    )


def _delete(record: ResourceRecord, clients: Any) -> str:
    """Delete one resource; the error of a refused delete ('' when it went)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from perfenv.cli.targets.local.realize import Ctx, handler_for

    handler = handler_for(record.type)
    assert handler is not None
    ctx = Ctx(type=record.type, name=record.name, region=record.region, client_factory=clients)
    try:
        handler.delete(ctx, record.id, record.state)
    except (ClientError, BotoCoreError) as exc:  # retried, then reported
        return str(exc)
    return ""
