"""The aws target: the Pulumi Automation API over the same program, in a work dir per stack.

Each stack gets `home()/runs/<stack>/` (a Pulumi.yaml pointing at `infra/`, and the stack's
config set through the Automation API), so nothing is written into `stacks/` and concurrent runs
never share a workspace. The Pulumi CLI runs in its own process group: perfenv's signal policy
decides what it receives. Before creating anything: the account allowlist and the EC2 vCPU quota.

What was exercised: the sequence of Automation API calls, retries, refusals and the sweep, with
fake stacks and fake AWS clients (tests/cli/test_aws_target.py). Never against a real account.

The package's modules: `automation` (the Automation API and the CLI's process group), `clients`,
`retries` (backoff), `guards` (checks before creating), `kube` (the cluster a run may use, and
its Kubernetes leftovers), `tag_sweep`, and `target` (`AwsTarget`).
"""

from __future__ import annotations

from perfenv.cli.targets.aws.automation import (
    INSTALL_HINT,
    PROJECT,
    Automation,
    PulumiAutomation,
    _grouped_command_class,
)
from perfenv.cli.targets.aws.clients import ClientFactory
from perfenv.cli.targets.aws.guards import VCPU_QUOTA
from perfenv.cli.targets.aws.tag_sweep import STACK_TAG
from perfenv.cli.targets.aws.target import EXPIRES_TAG, AwsTarget, default_backend

__all__ = [
    "EXPIRES_TAG",
    "INSTALL_HINT",
    "PROJECT",
    "STACK_TAG",
    "VCPU_QUOTA",
    "Automation",
    "AwsTarget",
    "ClientFactory",
    "PulumiAutomation",
    "_grouped_command_class",
    "default_backend",
]
