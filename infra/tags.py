"""The `perfenv:*` tags of every AWS resource and the `perfenv.io/*` labels of Kubernetes objects.

One place decides them, so the cost stack's tag filters, the reaper's tag sweep and the
leftovers check all agree with what the program puts on resources.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from perfenv.infra.config import RunConfig, StackFile

PROJECT = "perfenv"
TAG_PREFIX = "perfenv:"
LABEL_PREFIX = "perfenv.io/"
TAG_KEYS = ("project", "environment", "stack", "release", "owner", "team", "expires-at")
UNASSIGNED_TEAM = "unassigned"  # a stack whose file names no team, run without PERFENV_TEAM
_LABEL_VALUE_MAX = 63
_TAG_VALUE_MAX = 256
_TAG_VALUE_SIGNS = frozenset("_.:/=+-@")


def tag_key(name: str) -> str:
    """`environment` -> `perfenv:environment`."""
    return f"{TAG_PREFIX}{name}"


def team_of(stack: StackFile) -> str:
    """Who pays for the stack: the run's team, else the stack file's, else unassigned."""
    return stack.run.team or stack.team or UNASSIGNED_TEAM


def tag_value(value: str) -> str:
    """An AWS tag value every service takes (IAM and ELB check what EC2 does not): letters,
    digits and spaces of any script and `_ . : / = + - @`, at most 256; anything else is `_`.
    A release or owner is shown as given in reports and manifests; its tag is this."""
    kept = (
        ch if unicodedata.category(ch)[0] in "LNZ" or ch in _TAG_VALUE_SIGNS else "_"
        for ch in value
    )
    return "".join(kept)[:_TAG_VALUE_MAX]


def label_value(value: str) -> str:
    """A Kubernetes label value: at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", value)[:_LABEL_VALUE_MAX]
    return cleaned.strip("-_.")


@dataclass(frozen=True, kw_only=True)
class Tags:
    """What identifies one stack's resources."""

    environment: str
    stack: str
    run: RunConfig = RunConfig()
    team: str = UNASSIGNED_TEAM

    def _values(self) -> dict[str, str]:
        values = {
            "project": PROJECT,
            "environment": self.environment,
            "stack": self.stack,
            "release": self.run.release,
            "owner": self.run.owner,
            "team": self.team,
        }
        if self.run.expires_at is not None:
            values["expires-at"] = self.run.expires_at
        return values

    @property
    def aws(self) -> dict[str, str]:
        """AWS tags (`perfenv:project`, ...); `perfenv:expires-at` only when the run expires."""
        return {tag_key(k): tag_value(v) for k, v in self._values().items()}

    @property
    def labels(self) -> dict[str, str]:
        """Kubernetes labels; the expiry is an annotation (a label cannot hold a timestamp)."""
        return {
            f"{LABEL_PREFIX}{k}": label_value(v)
            for k, v in self._values().items()
            if k != "expires-at"
        }

    @property
    def annotations(self) -> dict[str, str]:
        if self.run.expires_at is None:
            return {}
        return {f"{LABEL_PREFIX}expires-at": self.run.expires_at}


NETWORK_KEY = tag_key("network")  # the VPC's: isolated | internet-facing (the rules read it)
ROLE_KEY = tag_key("role")  # what a security group or instance is for (the policy rules read it)


def role_tag(role: str) -> dict[str, str]:
    """`{"perfenv:role": role}`: own tags naming what a resource is for."""
    return {ROLE_KEY: role}
