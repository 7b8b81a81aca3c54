"""Stack state of the local target: `home()/local/stacks/<stack>.json`, one file per stack.

The worker rewrites the file after every resource it creates, so a crash mid-up still leaves
what exists on record for `destroy`. Writes are atomic (temp file, then rename).
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from perfenv.cli.errors import InfraError
from perfenv.cli.project import home
from perfenv.cli.state.names import check_stack_name, inside
from perfenv.infra.tags import tag_key


class ResourceRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    name: str
    id: str
    urn: str = ""  # filled in once the evaluation returns
    region: str = ""
    simulated: bool = False  # recorded, not realized (the emulator lacks the type)
    provider: bool = False  # a provider resource: recorded, never realized
    state: dict[str, Any] = Field(default_factory=dict)  # what delete needs
    dependencies: list[str] = Field(default_factory=list)  # URNs
    deleted: bool = False


class ProcessRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pid: int
    started: str  # /proc start time: tells our process from a recycled pid
    port: int
    command: list[str]
    log: str


class BalancerRecord(BaseModel):
    """One listener's balancer process, as the stack's controller started it."""

    model_config = ConfigDict(extra="forbid")

    listener_arn: str
    load_balancer_arn: str
    target_group_arn: str
    process: ProcessRecord  # its `port` is the listener's local port
    control_port: int


class ControllerState(BaseModel):
    """What a stack's controller runs, written by the controller (`<stack>/controller.json`)."""

    model_config = ConfigDict(extra="forbid")

    status: str = "starting"  # starting | ready | stopping | stopped | failed
    error: str | None = None
    instances: dict[str, ProcessRecord] = Field(default_factory=dict)  # instance id -> app
    balancers: list[BalancerRecord] = Field(default_factory=list)
    healthy: dict[str, int] = Field(default_factory=dict)  # target group ARN -> healthy targets


class StackState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stack: str
    target: str = "local"
    endpoint: str
    status: str = "creating"  # creating | up | failed | destroying | destroyed
    tags: dict[str, str] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    expires_at: datetime | None = None
    resources: list[ResourceRecord] = Field(default_factory=list)
    outputs: dict[str, Any] = Field(default_factory=dict)
    # What `up` started itself: the stack's controller (which records what it starts in
    # `<stack>/controller.json`); every one of them is marked with the stack besides.
    processes: list[ProcessRecord] = Field(default_factory=list)
    worker: ProcessRecord | None = None  # the up's worker, while it may still be creating
    error: str | None = None

    def regions(self) -> set[str]:
        return {r.region for r in self.resources if r.region}


def stacks_dir() -> Path:
    path = home() / "local" / "stacks"
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_of(stack: str) -> Path:
    return inside(stacks_dir(), f"{check_stack_name(stack, 'stack')}.json")


def exists(stack: str) -> bool:
    return path_of(stack).exists()


def names() -> list[str]:
    return sorted(p.stem for p in stacks_dir().glob("*.json"))


def load(stack: str) -> StackState:
    path = path_of(stack)
    try:
        return StackState.model_validate_json(path.read_text())
    except FileNotFoundError:
        raise InfraError(f"no local stack {stack!r} (no {path})") from None
    except ValidationError as exc:  # bad JSON or a bad field: the first, on one line
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise InfraError(f"{path}: unreadable stack state: {field}: {first['msg']}") from None
    except (ValueError, OSError) as exc:  # not UTF-8, a directory, ...
        raise InfraError(f"{path}: unreadable stack state: {exc}") from None


def save(stack_state: StackState) -> None:
    path = path_of(stack_state.stack)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(stack_state.model_dump_json(indent=2))
    os.replace(tmp, path)


def remove(stack: str) -> None:
    path_of(stack).unlink(missing_ok=True)
    shutil.rmtree(stacks_dir() / stack, ignore_errors=True)


def run_dir(stack: str) -> Path:
    """The controller's files and its processes' logs: `stacks/<stack>/`."""
    path = stacks_dir() / stack
    path.mkdir(parents=True, exist_ok=True)
    return path


def controller_path(stack: str) -> Path:
    return run_dir(stack) / "controller.json"


def telemetry_path(stack: str) -> Path:
    """One JSON line per second of the stack's server side (see `controller/journal.py`)."""
    return run_dir(stack) / "telemetry.jsonl"


def load_controller(stack: str) -> ControllerState | None:
    try:
        return ControllerState.model_validate_json(controller_path(stack).read_text())
    except (FileNotFoundError, ValueError):
        return None


def save_controller(stack: str, controller: ControllerState) -> None:
    path = controller_path(stack)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(controller.model_dump_json(indent=1))
    os.replace(tmp, path)


def parse_expiry(tags: dict[str, str]) -> datetime | None:
    """`perfenv:expires-at` as an aware datetime; None when absent (a long-lived stack)."""
    raw = tags.get(tag_key("expires-at"))
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
