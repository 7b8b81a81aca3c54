"""The aws target: the Pulumi Automation API over the same program, in a work dir per stack.

Each stack gets `home()/runs/<stack>/` (a Pulumi.yaml pointing at `infra/`, and the stack's
config set through the Automation API), so nothing is written into `stacks/` and concurrent runs
never share a workspace. The Pulumi CLI runs in its own process group: perfenv's signal policy
decides what it receives. Before creating anything: the account allowlist and the EC2 vCPU quota.

What was exercised: the sequence of Automation API calls, retries, refusals and the sweep, with
fake stacks and fake AWS clients (tests/cli/test_aws_target.py). Never against a real account.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml

from cli.errors import BadInput, InfraError
from cli.paths import REPO, home
from cli.signals import stop_process_group
from cli.targets.base import Progress, StackInfo, UpResult
from infra.config import STACKS_DIR, StackFile

PROJECT = "perfenv"
EXPIRES_TAG = "perfenv:expires-at"
STACK_TAG = "perfenv:stack"
VCPU_QUOTA = ("ec2", "L-1216C47A")  # Running On-Demand Standard instances, in vCPUs
INSTALL_HINT = (
    "the Pulumi CLI is not installed (needed by --target aws): "
    "curl -fsSL https://get.pulumi.com | sh, then put ~/.pulumi/bin on PATH"
)
_RETRYABLE = re.compile(
    r"Throttl|Rate exceeded|RequestLimitExceeded|TooManyRequests|SlowDown|"
    r"DependencyViolation|ResourceInUse|currently locked|in use by",
    re.IGNORECASE,
)
T = TypeVar("T")


class Automation(Protocol):
    """Opens stacks (`pulumi.automation.Stack`, or a fake) and lists them."""

    def stack(self, name: str, work_dir: Path, *, create: bool) -> Any: ...
    def list_stacks(self, work_dir: Path) -> list[tuple[str, datetime | None, dict[str, str]]]: ...
    def remove_stack(self, name: str, work_dir: Path) -> None: ...


ClientFactory = Callable[[str, str], Any]  # (service, region) -> boto3 client


def _boto_client(service: str, region: str) -> Any:
    import boto3
    from botocore.config import Config

    retries = Config(retries={"mode": "adaptive", "max_attempts": 10})
    return boto3.client(service, region_name=region, config=retries)  # type: ignore[call-overload]


# --- the Pulumi CLI in its own process group --------------------------------------------------


def _grouped_command_class() -> type:
    from pulumi.automation import CommandResult, PulumiCommand
    from pulumi.automation.errors import create_command_error

    class GroupedPulumiCommand(PulumiCommand):
        """`PulumiCommand.run`, but the CLI gets its own process group, and an exception in
        this thread (our signal policy's StopRequested) stops it: SIGINT, then SIGKILL."""

        def run(
            self,
            args: list[str],
            cwd: str,
            additional_env: Mapping[str, str],
            on_output: Callable[[str], Any] | None = None,
            on_error: Callable[[str], Any] | None = None,
        ) -> Any:
            if "--non-interactive" not in args:
                args.insert(0, "--non-interactive")
            env = {**os.environ, **additional_env, "PULUMI_AUTOMATION_API": "true"}
            out: list[str] = []
            err: list[str] = []
            process = subprocess.Popen(
                [self.command, *args],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                encoding="utf-8",
                start_new_session=True,
            )
            readers = [
                threading.Thread(target=_pump, args=(process.stdout, on_output, out), daemon=True),
                threading.Thread(target=_pump, args=(process.stderr, on_error, err), daemon=True),
            ]
            try:
                for reader in readers:
                    reader.start()
                code = process.wait()
                for reader in readers:
                    reader.join()
            except BaseException:
                stop_process_group(process)
                raise
            result = CommandResult(stdout="\n".join(out), stderr="\n".join(err), code=code)
            if code != 0:
                raise create_command_error(result)
            return result

    return GroupedPulumiCommand


def _pump(stream: Any, callback: Callable[[str], Any] | None, chunks: list[str]) -> None:
    for line in iter(stream.readline, ""):
        line = line.rstrip()
        if callback:
            callback(line)
        chunks.append(line)
    stream.close()


class PulumiAutomation:
    """The real thing: `pulumi.automation` over a local work dir, the CLI in its own group."""

    def __init__(self, backend: str) -> None:
        self.backend = backend

    def _options(self, work_dir: Path) -> Any:
        from pulumi import automation as auto

        try:
            command = _grouped_command_class()()
        except FileNotFoundError:
            raise BadInput(INSTALL_HINT) from None
        venv = REPO / ".venv" if (REPO / ".venv").exists() else Path(sys.prefix)
        settings = auto.ProjectSettings(
            name=PROJECT,
            runtime=auto.ProjectRuntimeInfo("python", {"virtualenv": str(venv)}),
            main=os.path.relpath(REPO / "infra", work_dir),
            description="perfenv stack (work dir made by perfenv; see stacks/ for its source)",
            backend=auto.ProjectBackend(self.backend),
        )
        return auto.LocalWorkspaceOptions(
            work_dir=str(work_dir),
            env_vars={"PULUMI_BACKEND_URL": self.backend, "PULUMI_SKIP_UPDATE_CHECK": "true"},
            secrets_provider="passphrase" if not self.backend.startswith("https") else None,
            project_settings=settings,
            pulumi_command=command,
        )

    def stack(self, name: str, work_dir: Path, *, create: bool) -> Any:
        from pulumi import automation as auto

        opts = self._options(work_dir)
        try:
            if create:
                stack: Any = auto.create_stack(name, work_dir=str(work_dir), opts=opts)
            else:
                stack = auto.select_stack(name, work_dir=str(work_dir), opts=opts)
        except FileNotFoundError:
            raise BadInput(INSTALL_HINT) from None
        except auto.StackAlreadyExistsError:
            raise BadInput(f"stack {name}: already up; down it first") from None
        return stack

    def list_stacks(self, work_dir: Path) -> list[tuple[str, datetime | None, dict[str, str]]]:
        from pulumi import automation as auto

        try:
            ws = auto.LocalWorkspace(**vars(self._options(work_dir)))
            found = []
            for summary in ws.list_stacks(include_all=True):
                name = summary.name.rsplit("/", 1)[-1]
                try:
                    tags = dict(ws.list_tags(summary.name))
                except auto.CommandError:
                    tags = {}  # a backend without stack tags: the run registry has them
                updated = summary.last_update
                found.append((name, updated.replace(tzinfo=UTC) if updated else None, tags))
        except FileNotFoundError:
            raise BadInput(INSTALL_HINT) from None
        return found

    def remove_stack(self, name: str, work_dir: Path) -> None:
        from pulumi import automation as auto

        try:
            auto.LocalWorkspace(**vars(self._options(work_dir))).remove_stack(name)
        except auto.StackNotFoundError:
            return


# --- the target --------------------------------------------------------------------------------


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
        client: ClientFactory = _boto_client,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = 6,
        base_delay_s: float = 2.0,
    ) -> None:
        self.backend = backend or default_backend()
        self.automation = automation or PulumiAutomation(self.backend)
        self.client, self.sleep = client, sleep
        self.attempts, self.base_delay_s = attempts, base_delay_s

    # work dirs and config ------------------------------------------------------------------

    def work_dir(self, stack: str) -> Path:
        path = home() / "runs" / stack
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _prepare(self) -> None:
        """Tools and settings first: a missing CLI or passphrase is exit 2, before any call."""
        if isinstance(self.automation, PulumiAutomation) and shutil.which("pulumi") is None:
            raise BadInput(INSTALL_HINT)
        if self.backend.startswith("file://"):
            Path(self.backend.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
        if not self.backend.startswith("https") and not (
            os.environ.get("PULUMI_CONFIG_PASSPHRASE")
            or os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")
        ):
            raise BadInput(
                "PULUMI_CONFIG_PASSPHRASE (or _FILE) must be set for the "
                f"{self.backend.split(':')[0]} backend"
            )

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
        recorded = home() / "runs" / stack / "region"
        if recorded.exists():
            return recorded.read_text().strip()
        for path in (STACKS_DIR / f"Pulumi.{stack}.yaml", STACKS_DIR / "Pulumi.perf.yaml"):
            if path.exists():
                cfg = yaml.safe_load(path.read_text())["config"]
                section = cfg.get("perfenv:environment") or cfg.get("perfenv:cost") or {}
                return str(section.get("region") or cfg.get("aws:region"))
        return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")

    # checks before anything is created --------------------------------------------------------

    def check_account(self, region: str) -> str:
        allowed = [a.strip() for a in os.environ.get("PERFENV_AWS_ACCOUNTS", "").split(",")]
        allowed = [a for a in allowed if a]
        if not allowed:
            raise BadInput("PERFENV_AWS_ACCOUNTS: not set; list the AWS accounts perfenv may use")
        account = str(self.client("sts", region).get_caller_identity()["Account"])
        if account not in allowed:
            raise BadInput(
                f"AWS account {account} is not in PERFENV_AWS_ACCOUNTS ({', '.join(allowed)})"
            )
        return account

    def check_vcpu_quota(self, config: StackFile, region: str, progress: Progress) -> None:
        env = config.environment
        if env is None:
            return
        need = env.fleet.max * env.fleet.vcpus_per_instance
        quotas = self.client("service-quotas", region)
        try:
            got = quotas.get_service_quota(ServiceCode=VCPU_QUOTA[0], QuotaCode=VCPU_QUOTA[1])
        except Exception as exc:  # noqa: BLE001 - no permission: say so, do not block
            progress(f"EC2 vCPU quota not checked ({type(exc).__name__}: {exc})")
            return
        limit = float(got["Quota"]["Value"])
        if need > limit:
            raise BadInput(
                f"{config.path.name}: fleet.max: needs {need} vCPUs "
                f"({env.fleet.max} x {env.fleet.vcpus_per_instance}), "
                f"the account's EC2 vCPU quota {VCPU_QUOTA[1]} in {region} is {limit:g}"
            )

    # the Target protocol ----------------------------------------------------------------------

    def up(
        self, stack: str, config: StackFile, tags: dict[str, str], progress: Progress
    ) -> UpResult:
        self._prepare()
        region = (config.environment or config.cost).region  # type: ignore[union-attr]
        self.check_account(region)
        self.check_vcpu_quota(config, region, progress)
        work = self.work_dir(stack)
        (work / "region").write_text(region)
        handle = self.automation.stack(stack, work, create=True)
        handle.set_all_config(self.config_map(config))
        for key, value in tags.items():
            self._tag(handle, key, value, progress)
        progress(f"{stack}: pulumi up (backend {self.backend})")
        result = self._retry("up", lambda: handle.up(on_output=_quiet(progress), color="never"))
        outputs = {key: getattr(out, "value", out) for key, out in result.outputs.items()}
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
        except ConcurrentUpdateError:
            # A crashed run's lock: cancel it, forget pending creates, and sweep by tag after.
            progress(f"{stack}: stale lock; cancelling and clearing pending creates")
            handle.cancel()
            self._retry(
                "refresh",
                lambda: handle.refresh(on_output=out, color="never", clear_pending_creates=True),
            )
        self._retry("destroy", lambda: handle.destroy(on_output=out, color="never"))
        self.sweep(stack, progress)

    def outputs(self, stack: str) -> dict[str, Any]:
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
                    expires_at=_parse(expires) if expires else None,
                )
            )
        return infos

    def leftovers(self, stack: str) -> list[str]:
        return [f"{kind} {ident}" for kind, ident in self._tagged(stack, self.region(stack))]

    def remove(self, stack: str) -> None:
        self.automation.remove_stack(stack, self.work_dir(stack))
        shutil.rmtree(home() / "runs" / stack, ignore_errors=True)

    # retries ---------------------------------------------------------------------------------

    def _retry(self, what: str, op: Callable[[], T]) -> T:
        """`op` with exponential backoff on a locked stack, throttling or dependency errors."""
        from pulumi.automation import CommandError, ConcurrentUpdateError

        for attempt in range(1, self.attempts + 1):
            try:
                return op()
            except CommandError as exc:
                retryable = isinstance(exc, ConcurrentUpdateError) or bool(
                    _RETRYABLE.search(str(exc))
                )
                if not retryable:
                    raise InfraError(f"pulumi {what} failed: {_last_error(exc)}") from None
                if attempt == self.attempts:
                    if isinstance(exc, ConcurrentUpdateError):
                        raise
                    raise InfraError(
                        f"pulumi {what} failed after {attempt} attempts: {_last_error(exc)}"
                    ) from None
                self.sleep(min(self.base_delay_s * 2 ** (attempt - 1), 60.0))
        raise AssertionError("unreachable")

    # leftovers and the sweep -----------------------------------------------------------------

    def _tagged(self, stack: str, region: str) -> Iterator[tuple[str, str]]:
        """What AWS still holds for `stack`: the tagging API (less terminated instances) plus
        per-type calls for what it misses (ASGs, launch templates, NACLs, EIPs, dashboards)."""
        tag_filter = [{"Key": STACK_TAG, "Values": [stack]}]
        ec2 = self.client("ec2", region)
        terminated = set()
        pages = ec2.get_paginator("describe_instances").paginate(
            Filters=[{"Name": f"tag:{STACK_TAG}", "Values": [stack]}]
        )
        for page in pages:
            for reservation in page.get("Reservations", []):
                for inst in reservation.get("Instances", []):
                    if inst.get("State", {}).get("Name") in ("terminated", "shutting-down"):
                        terminated.add(inst["InstanceId"])
        tagging = self.client("resourcegroupstaggingapi", region)
        for page in tagging.get_paginator("get_resources").paginate(TagFilters=tag_filter):
            for item in page.get("ResourceTagMappingList", []):
                arn = item["ResourceARN"]
                if arn.rsplit("/", 1)[-1] not in terminated:
                    yield ("arn", arn)
        asg = self.client("autoscaling", region)
        for page in asg.get_paginator("describe_tags").paginate(
            Filters=[{"Name": "key", "Values": [STACK_TAG]}, {"Name": "value", "Values": [stack]}]
        ):
            for tag in page.get("Tags", []):
                yield ("autoscaling-group", tag["ResourceId"])
        ec2_filter = [{"Name": f"tag:{STACK_TAG}", "Values": [stack]}]
        for lt in ec2.describe_launch_templates(Filters=ec2_filter).get("LaunchTemplates", []):
            yield ("launch-template", lt["LaunchTemplateId"])
        for acl in ec2.describe_network_acls(Filters=ec2_filter).get("NetworkAcls", []):
            if not acl.get("IsDefault"):
                yield ("network-acl", acl["NetworkAclId"])
        for eip in ec2.describe_addresses(Filters=ec2_filter).get("Addresses", []):
            yield ("elastic-ip", eip.get("AllocationId", eip.get("PublicIp", "")))
        cloudwatch = self.client("cloudwatch", region)
        for page in cloudwatch.get_paginator("list_dashboards").paginate():
            for board in page.get("DashboardEntries", []):
                tags = cloudwatch.list_tags_for_resource(ResourceARN=board["DashboardArn"])
                if any(t["Key"] == STACK_TAG and t["Value"] == stack for t in tags["Tags"]):
                    yield ("dashboard", board["DashboardName"])

    def sweep(self, stack: str, progress: Progress) -> None:
        """Delete what still carries `perfenv:stack=<stack>` (after forgotten pending creates),
        dependents first; retried with backoff. Leftovers afterwards are for the caller."""
        region = self.region(stack)
        for attempt in range(1, self.attempts + 1):
            found = sorted(self._tagged(stack, region), key=_sweep_order)
            if not found:
                return
            progress(f"{stack}: sweeping {len(found)} tagged resources (attempt {attempt})")
            for kind, ident in found:
                try:
                    _delete(self.client, region, kind, ident)
                except Exception as exc:  # noqa: BLE001 - retried; what stays is a leftover
                    progress(f"  {kind} {ident}: {type(exc).__name__}")
            if attempt < self.attempts:
                self.sleep(min(self.base_delay_s * 2 ** (attempt - 1), 60.0))


def _quiet(progress: Progress) -> Callable[[str], None]:
    def forward(line: str) -> None:
        if line.strip():
            progress(f"  {line}")

    return forward


def _last_error(exc: Exception) -> str:
    lines = [ln[ln.index("error:") :].strip() for ln in str(exc).splitlines() if "error:" in ln]
    return lines[-1] if lines else str(exc).strip().splitlines()[-1]


def _parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Dependents before what they depend on.
_ORDER = [
    "autoscaling-group",
    ":instance/",
    ":loadbalancer/",
    ":listener/",
    ":targetgroup/",
    ":natgateway/",
    "elastic-ip",
    ":elastic-ip/",
    "launch-template",
    ":launch-template/",
    ":internet-gateway/",
    ":route-table/",
    ":subnet/",
    ":security-group",
    "network-acl",
    ":network-acl/",
    ":vpc/",
]


def _sweep_order(item: tuple[str, str]) -> int:
    kind, ident = item
    key = ident if kind == "arn" else kind
    return next((i for i, mark in enumerate(_ORDER) if mark in key), len(_ORDER))


def _delete(client: ClientFactory, region: str, kind: str, ident: str) -> None:
    """One per-type delete for a swept resource."""
    if kind == "autoscaling-group":
        client("autoscaling", region).delete_auto_scaling_group(
            AutoScalingGroupName=ident, ForceDelete=True
        )
    elif kind == "launch-template":
        client("ec2", region).delete_launch_template(LaunchTemplateId=ident)
    elif kind == "network-acl":
        client("ec2", region).delete_network_acl(NetworkAclId=ident)
    elif kind == "elastic-ip":
        client("ec2", region).release_address(AllocationId=ident)
    elif kind == "dashboard":
        client("cloudwatch", region).delete_dashboards(DashboardNames=[ident])
    else:
        _delete_arn(client, region, ident)


def _delete_arn(client: ClientFactory, region: str, arn: str) -> None:
    service, resource = arn.split(":", 5)[2], arn.split(":", 5)[5]
    rtype, _, rid = resource.partition("/") if "/" in resource else resource.partition(":")
    ec2_deletes: dict[str, Callable[[Any], Any]] = {
        "instance": lambda c: c.terminate_instances(InstanceIds=[rid]),
        "vpc": lambda c: c.delete_vpc(VpcId=rid),
        "subnet": lambda c: c.delete_subnet(SubnetId=rid),
        "security-group": lambda c: c.delete_security_group(GroupId=rid),
        "route-table": lambda c: c.delete_route_table(RouteTableId=rid),
        "natgateway": lambda c: c.delete_nat_gateway(NatGatewayId=rid),
        "network-acl": lambda c: c.delete_network_acl(NetworkAclId=rid),
        "launch-template": lambda c: c.delete_launch_template(LaunchTemplateId=rid),
        "elastic-ip": lambda c: c.release_address(AllocationId=rid),
        "internet-gateway": lambda c: _delete_igw(c, rid),
        "flow-log": lambda c: c.delete_flow_logs(FlowLogIds=[rid]),
    }
    if service == "ec2" and rtype in ec2_deletes:
        ec2_deletes[rtype](client("ec2", region))
    elif service == "elasticloadbalancing":
        elb = client("elbv2", region)
        if rtype == "targetgroup":
            elb.delete_target_group(TargetGroupArn=arn)
        elif rtype == "listener":
            elb.delete_listener(ListenerArn=arn)
        else:
            elb.delete_load_balancer(LoadBalancerArn=arn)
    elif service == "cloudwatch" and rtype == "alarm":
        client("cloudwatch", region).delete_alarms(AlarmNames=[resource.split(":", 1)[1]])
    elif service == "sns":
        client("sns", region).delete_topic(TopicArn=arn)
    elif service == "logs":
        group = resource.split(":", 1)[1].removesuffix(":*")
        client("logs", region).delete_log_group(logGroupName=group)
    else:
        raise InfraError(f"{arn}: no sweep for this type; delete it by hand")


def _delete_igw(ec2: Any, igw: str) -> None:
    found = ec2.describe_internet_gateways(InternetGatewayIds=[igw])["InternetGateways"]
    for attachment in found[0].get("Attachments", []) if found else []:
        ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=attachment["VpcId"])
    ec2.delete_internet_gateway(InternetGatewayId=igw)
