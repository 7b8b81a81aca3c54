"""`AwsTarget`: the Target protocol over the Automation API, one work dir per stack."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from perfenv.cli.errors import InfraError
from perfenv.cli.project import home, stack_file
from perfenv.cli.state.names import check_stack_name, inside
from perfenv.cli.state.urls import redact_url
from perfenv.cli.targets.aws import during_run, guards, kube, locks, quotas, tag_sweep
from perfenv.cli.targets.aws.automation import Automation, PulumiAutomation
from perfenv.cli.targets.aws.clients import ClientFactory, boto_client
from perfenv.cli.targets.aws.retries import T, retry
from perfenv.cli.targets.base import Progress, StackInfo, UpResult
from perfenv.cli.targets.probe import Probe
from perfenv.cli.targets.telemetry import TelemetryReader
from perfenv.cli.verdict.generators import GeneratorHosts
from perfenv.infra.config import StackFile

EXPIRES_TAG = "perfenv:expires-at"


def default_backend() -> str:
    url = os.environ.get("PULUMI_BACKEND_URL")
    if url:
        return url
    path = home() / "pulumi"
    return f"file://{path}"


class AwsTarget:
    name = "aws"

    def __init__(
        self,
        *,
        backend: str | None = None,
        automation: Automation | None = None,
        client: ClientFactory = boto_client,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = 6,
        base_delay_s: float = 2.0,
        account: str | None = None,
    ) -> None:
        self.backend = backend or default_backend()
        self.automation = automation or PulumiAutomation(self.backend)
        self.client, self.sleep = client, sleep
        self.attempts, self.base_delay_s = attempts, base_delay_s
        self.account = account  # the account a run recorded at up: its stack lives there
        self._checked: dict[str, str] = {}  # region -> the allowed account of the credentials

    # work dirs and config ------------------------------------------------------------------

    def _run_dir(self, stack: str) -> Path:
        return inside(home() / "runs", check_stack_name(stack, "stack"))

    def work_dir(self, stack: str) -> Path:
        path = self._run_dir(stack)
        path.mkdir(parents=True, exist_ok=True)
        return path

    @staticmethod
    def config_map(config: StackFile) -> dict[str, Any]:
        """The stack's config: the source file's `config:` plus the run's `perfenv:run`."""
        from pulumi.automation import ConfigValue

        raw = yaml.safe_load(config.path.read_text())["config"]
        raw["perfenv:run"] = config.run.model_dump()
        return {
            key: ConfigValue(value=value if isinstance(value, str) else json.dumps(value))
            for key, value in raw.items()
        }

    def region(self, stack: str) -> str:
        """The stack's region: recorded at up, else its own stack file, else the perf template."""
        recorded = self._run_dir(stack) / "region"
        if recorded.exists():
            return recorded.read_text().strip()
        for path in (stack_file(stack), stack_file("perf")):
            if path.exists():
                cfg = yaml.safe_load(path.read_text())["config"]
                section = cfg.get("perfenv:environment") or cfg.get("perfenv:cost") or {}
                return str(section.get("region") or cfg.get("aws:region"))
        return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")

    # checks before anything is created --------------------------------------------------------

    def _prepare(self) -> None:
        guards.check_tools(self.backend, needs_cli=isinstance(self.automation, PulumiAutomation))

    def check_account(self, region: str) -> str:
        """The allowlist (and the run's recorded account) on every AWS path; checked once per
        region and target."""
        if region not in self._checked:
            self._checked[region] = guards.check_account(self.client, region, self.account)
        return self._checked[region]

    def _guard(self, stack: str) -> str:
        return self.check_account(self.region(stack))

    def check_vcpu_quota(self, config: StackFile, region: str, progress: Progress) -> None:
        guards.check_vcpu_quota(self.client, config, region, progress)
        quotas.check_quotas(self.client, config, region, progress)

    # the Target protocol ----------------------------------------------------------------------

    def preflight(self, config: StackFile, progress: Progress) -> str:
        """Tools, the account (returned: the manifest records it), the Kubernetes cluster
        (explicit and allowed) and the quotas (vCPUs, VPCs, Elastic IPs, NAT gateways, load
        balancers)."""
        self._prepare()
        region = _region(config)
        account = self.check_account(region)
        kube.check(config)
        self.check_vcpu_quota(config, region, progress)
        return account

    def up(
        self, stack: str, config: StackFile, tags: dict[str, str], progress: Progress
    ) -> UpResult:
        self.preflight(config, progress)  # also when called without the lifecycle's checks
        exchange = during_run.check_exchange(config, stack)
        region = _region(config)
        work = self.work_dir(stack)
        (work / "region").write_text(region)
        (work / during_run.EXCHANGE).write_text(exchange)
        access = kube.check(config)
        kube.save(work, access, {})  # before up: a failed up may leave a namespace too
        handle = self.automation.stack(stack, work, create=True)
        handle.set_all_config(self.config_map(config))
        for key, value in tags.items():
            self._tag(handle, key, value, progress)
        progress(f"{stack}: pulumi up (backend {redact_url(self.backend)})")
        result = self._retry("up", lambda: handle.up(on_output=_quiet(progress), color="never"))
        outputs = {key: getattr(out, "value", out) for key, out in result.outputs.items()}
        kube.save(work, access, outputs)
        changes = getattr(result.summary, "resource_changes", None) or {}
        return UpResult(stack=stack, outputs=outputs, resources=int(sum(changes.values())))

    def _tag(self, handle: Any, key: str, value: str, progress: Progress) -> None:
        from pulumi.automation import CommandError

        try:
            handle.set_tag(key, value)
        except CommandError as exc:  # DIY backends may refuse stack tags: the registry has them
            progress(f"stack tag {key} not stored: {str(exc).strip().splitlines()[-1]}")

    def destroy(self, stack: str, progress: Progress) -> None:
        from pulumi.automation import ConcurrentUpdateError, StackNotFoundError

        self._prepare()
        self._guard(stack)  # before the refresh: another account's refresh forgets everything
        work = self.work_dir(stack)
        try:
            handle = self.automation.stack(stack, work, create=False)
        except StackNotFoundError:
            progress(f"{stack}: no Pulumi stack; sweeping by tag")
            self.sweep(stack, progress)
            return
        out = _quiet(progress)
        try:
            self._retry("refresh", lambda: handle.refresh(on_output=out, color="never"))
        except ConcurrentUpdateError as exc:
            self._cancel_dead_lock(stack, str(exc), progress)
            handle.cancel()
            self._retry(
                "refresh",
                lambda: handle.refresh(on_output=out, color="never", clear_pending_creates=True),
            )
        self._retry("destroy", lambda: handle.destroy(on_output=out, color="never"))
        self.sweep(stack, progress)

    def _cancel_dead_lock(self, stack: str, message: str, progress: Progress) -> None:
        """A locked stack is cancelled only when every owner of its lock is known dead (a
        crashed run's CLI on this host); otherwise InfraError, and the lock stays."""
        found = locks.owners(message)
        alive = [o for o in found if not o.known_dead()]
        if not found or alive:
            held = ", ".join(str(o) for o in alive) or "an owner perfenv cannot read"
            raise InfraError(
                f"{stack}: locked by {held}, not known to have stopped; not cancelled "
                "(when it has, pulumi cancel, then perfenv down again)"
            )
        progress(
            f"{stack}: lock of a dead process ({found[0]}); cancelling, clearing pending creates"
        )

    def outputs(self, stack: str) -> dict[str, Any]:
        self._guard(stack)
        handle = self.automation.stack(stack, self.work_dir(stack), create=False)
        return {key: getattr(out, "value", out) for key, out in handle.outputs().items()}

    def list_stacks(self) -> list[StackInfo]:
        listing = home() / "runs" / ".list"
        listing.mkdir(parents=True, exist_ok=True)
        infos = []
        for name, updated, tags in self.automation.list_stacks(listing):
            expires = tags.get(EXPIRES_TAG)
            infos.append(
                StackInfo(
                    name=name,
                    target=self.name,
                    tags=tags,
                    created_at=updated or datetime.now(UTC),
                    expires_at=_parse(expires) if expires else None,  # None if unreadable
                )
            )
        return infos

    def leftovers(self, stack: str) -> list[str]:
        self._guard(stack)
        found = tag_sweep.tagged(self.client, stack, self.region(stack))
        lines = [f"{kind} {ident}" for kind, ident in found]
        return lines + kube.leftovers(self._run_dir(stack), stack)

    def telemetry(self, stack: str) -> TelemetryReader | None:
        return during_run.telemetry(self, stack)

    def probe(self, stack: str) -> Probe:
        return during_run.probe(self, stack)

    def generator(self, stack: str) -> GeneratorHosts | None:
        return during_run.generator(self, stack)

    def remove(self, stack: str) -> None:
        self._guard(stack)
        self.automation.remove_stack(stack, self.work_dir(stack))
        shutil.rmtree(self._run_dir(stack), ignore_errors=True)

    def sweep(self, stack: str, progress: Progress) -> None:
        """Delete what still carries `perfenv:stack=<stack>`; see `tag_sweep.sweep`."""
        self._guard(stack)
        tag_sweep.sweep(
            self.client,
            stack,
            self.region(stack),
            progress,
            attempts=self.attempts,
            sleep=self.sleep,
            base_delay_s=self.base_delay_s,
        )

    def _retry(self, what: str, op: Callable[[], T]) -> T:
        return retry(
            what, op, attempts=self.attempts, sleep=self.sleep, base_delay_s=self.base_delay_s
        )


def _quiet(progress: Progress) -> Callable[[str], None]:
    def forward(line: str) -> None:
        if line.strip():
            progress(f"  {line}")

    return forward


def _parse(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None  # the lifecycle reports the tag and skips the stack
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _region(config: StackFile) -> str:
    return (config.environment or config.cost).region  # type: ignore[union-attr]
