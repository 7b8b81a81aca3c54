"""Fake Automation API stacks for the aws target: every call lands in one ordered log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pulumi.automation import (
    CommandError,
    CommandResult,
    ConcurrentUpdateError,
    StackNotFoundError,
)


def locked(host: str = "ci-runner-7", pid: int = 4242) -> ConcurrentUpdateError:
    """What the Pulumi CLI says of a stack locked by `pid` on `host` (diy backend)."""
    return ConcurrentUpdateError(
        CommandResult(
            stdout="",
            stderr="error: the stack is currently locked by 1 lock(s). Either wait for the "
            "other process(es) to end or delete the lock file with `pulumi cancel`.\n"
            "  file:///b/.pulumi/locks/organization/perfenv/perf-x/1f0c.json: created by "
            f"ci@{host} (pid {pid}) at 2030-01-01T00:00:00Z",
            code=255,
        )
    )


def command_error(text: str) -> CommandError:
    return CommandError(CommandResult(stdout="", stderr=f"error: {text}", code=255))


@dataclass
class FakeStack:
    name: str
    log: list[str]
    # op name -> errors to raise on its next calls, in order
    failures: dict[str, list[Exception]] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=lambda: {"service_url": "http://perf.example"})

    def _call(self, op: str) -> None:
        self.log.append(op)
        queued = self.failures.get(op.split(" ")[0])
        if queued:
            raise queued.pop(0)

    def set_all_config(self, config: dict[str, Any]) -> None:
        self.config.update(config)
        self._call("set_all_config")

    def set_tag(self, key: str, value: str) -> None:
        self._call(f"set_tag {key}")
        self.tags[key] = value

    def list_tags(self) -> dict[str, str]:
        return dict(self.tags)

    def up(self, **kwargs: Any) -> Any:
        self._call("up")
        outputs = self.outputs()
        summary = SimpleNamespace(resource_changes={"create": 41})
        return SimpleNamespace(outputs=outputs, summary=summary)

    def refresh(self, **kwargs: Any) -> Any:
        self._call(
            "refresh" + (" clear_pending_creates" if kwargs.get("clear_pending_creates") else "")
        )
        return SimpleNamespace()

    def destroy(self, **kwargs: Any) -> Any:
        self._call("destroy")
        return SimpleNamespace()

    def cancel(self) -> None:
        self._call("cancel")

    def outputs(self) -> dict[str, Any]:
        return {k: SimpleNamespace(value=v, secret=False) for k, v in self.values.items()}


@dataclass
class FakeAutomation:
    log: list[str] = field(default_factory=list)
    stacks: dict[str, FakeStack] = field(default_factory=dict)
    work_dirs: list[Path] = field(default_factory=list)
    failures: dict[str, list[Exception]] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=lambda: {"service_url": "http://perf.example"})

    def stack(self, name: str, work_dir: Path, *, create: bool) -> FakeStack:
        self.work_dirs.append(work_dir)
        if create:
            self.log.append(f"create_stack {name}")
            self.stacks[name] = FakeStack(name, self.log, self.failures, values=self.outputs)
        else:
            self.log.append(f"select_stack {name}")
            if name not in self.stacks:
                raise StackNotFoundError(CommandResult(stdout="", stderr="no stack", code=255))
        return self.stacks[name]

    def list_stacks(self, work_dir: Path) -> list[tuple[str, datetime | None, dict[str, str]]]:
        return [(n, datetime.now(UTC), dict(s.tags)) for n, s in self.stacks.items()]

    def remove_stack(self, name: str, work_dir: Path) -> None:
        self.log.append(f"remove_stack {name}")
        self.stacks.pop(name, None)


@dataclass
class FakeClients:
    """sts and service-quotas answers; every other service from `fallback` (moto, or nothing)."""

    account: str = "123456789012"
    vcpu_quota: float = 256.0
    fallback: Callable[[str, str], Any] | None = None
    asked: list[str] = field(default_factory=list)
    # other Service Quotas codes (VPCs, EIPs, NAT gateways, ALBs): unknown ones are refused as
    # the API refuses them (moto answers only VPC codes)
    quotas: dict[str, float] = field(default_factory=dict)

    def __call__(self, service: str, region: str) -> Any:
        self.asked.append(service)
        if service == "sts":
            return SimpleNamespace(get_caller_identity=lambda: {"Account": self.account})
        if service == "service-quotas":

            def quota(ServiceCode: str, QuotaCode: str) -> dict[str, Any]:  # noqa: N803
                if (ServiceCode, QuotaCode) == ("ec2", "L-1216C47A"):
                    return {"Quota": {"Value": self.vcpu_quota}}
                if QuotaCode not in self.quotas:
                    raise LookupError(f"NoSuchResourceException: {ServiceCode} {QuotaCode}")
                return {"Quota": {"Value": self.quotas[QuotaCode]}}

            return SimpleNamespace(get_service_quota=quota)
        if self.fallback is None:
            raise AssertionError(f"unexpected AWS client {service}")
        return self.fallback(service, region)
