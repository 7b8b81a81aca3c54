"""What the aws target checks before it creates anything; each refusal is BadInput (exit 2).

The Pulumi CLI and a secrets passphrase, the account allowlist (on every AWS path, not only on
creation), and the EC2 vCPU quota.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from perfenv.cli.errors import BadInput
from perfenv.cli.state.s3store import aws_credentials
from perfenv.cli.targets.aws.automation import INSTALL_HINT
from perfenv.cli.targets.aws.clients import ClientFactory
from perfenv.cli.targets.base import Progress
from perfenv.infra.config import StackFile

VCPU_QUOTA = ("ec2", "L-1216C47A")
ACCOUNTS_ENV = "PERFENV_AWS_ACCOUNTS"  # Running On-Demand Standard instances, in vCPUs


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


def allowed_accounts() -> list[str]:
    """`PERFENV_AWS_ACCOUNTS`: the accounts perfenv may act in; BadInput when not set."""
    allowed = [a.strip() for a in os.environ.get(ACCOUNTS_ENV, "").split(",") if a.strip()]
    if not allowed:
        raise BadInput(f"{ACCOUNTS_ENV}: not set; list the AWS accounts perfenv may use")
    return allowed


def check_account(client: ClientFactory, region: str, expected: str | None = None) -> str:
    """The account the credentials act in, if allowed; else BadInput (exit 2), before any call
    that reads or changes anything. `expected`: the account a run recorded at `up` (its
    teardown with another account's credentials is refused, so nothing is refreshed away).

    Every AWS path of perfenv goes through here: create, refresh, destroy, sweep, outputs,
    remove, leftovers, reap, and the cost commands (`perfenv.cli.cost.aws_clients`).
    """
    allowed = allowed_accounts()
    with aws_credentials("AWS"):
        account = str(client("sts", region).get_caller_identity()["Account"])
    if account not in allowed:
        raise BadInput(f"AWS account {account} is not in {ACCOUNTS_ENV} ({', '.join(allowed)})")
    if expected is not None and account != expected:
        raise BadInput(
            f"AWS account {account}: the stack was created in account {expected}; "
            "use that account's credentials (nothing was refreshed or destroyed)"
        )
    return account


def check_vcpu_quota(
    client: ClientFactory, config: StackFile, region: str, progress: Progress
) -> None:
    env = config.environment
    if env is None:
        return
    need = env.vcpus  # the fleet at its max and the load generator's instances
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
            f"({env.fleet.max} x {env.fleet.vcpus_per_instance} for the fleet, "
            f"{env.load_generator.instances} x {env.load_generator.vcpus_per_instance} for the "
            "load generator), "
            f"the account's EC2 vCPU quota {VCPU_QUOTA[1]} in {region} is {limit:g}"
        )
