"""What the aws target checks before it creates anything; each refusal is BadInput (exit 2).

The Pulumi CLI and a secrets passphrase, the account allowlist, and the EC2 vCPU quota.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from perfenv.cli.errors import BadInput
from perfenv.cli.targets.aws.automation import INSTALL_HINT
from perfenv.cli.targets.aws.clients import ClientFactory
from perfenv.cli.targets.base import Progress
from perfenv.infra.config import StackFile

VCPU_QUOTA = ("ec2", "L-1216C47A")  # Running On-Demand Standard instances, in vCPUs


def check_tools(backend: str, *, needs_cli: bool) -> None:
    """Tools and settings first: a missing CLI or passphrase is exit 2, before any call."""
    if needs_cli and shutil.which("pulumi") is None:
        raise BadInput(INSTALL_HINT)
    if backend.startswith("file://"):
        Path(backend.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
    if not backend.startswith("https") and not (
        os.environ.get("PULUMI_CONFIG_PASSPHRASE")
        or os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    ):
        raise BadInput(
            "PULUMI_CONFIG_PASSPHRASE (or _FILE) must be set for the "
            f"{backend.split(':')[0]} backend"
        )


def check_account(client: ClientFactory, region: str) -> str:
    allowed = [a.strip() for a in os.environ.get("PERFENV_AWS_ACCOUNTS", "").split(",")]
    allowed = [a for a in allowed if a]
    if not allowed:
        raise BadInput("PERFENV_AWS_ACCOUNTS: not set; list the AWS accounts perfenv may use")
    account = str(client("sts", region).get_caller_identity()["Account"])
    if account not in allowed:
        raise BadInput(
            f"AWS account {account} is not in PERFENV_AWS_ACCOUNTS ({', '.join(allowed)})"
        )
    return account


def check_vcpu_quota(
    client: ClientFactory, config: StackFile, region: str, progress: Progress
) -> None:
    env = config.environment
    if env is None:
        return
    need = env.fleet.max * env.fleet.vcpus_per_instance
    quotas = client("service-quotas", region)
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
