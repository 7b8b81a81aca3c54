"""Which cluster the Kubernetes objects go to: never the ambient one.

The provider gets an explicit kubeconfig (the stack's `kubernetes.kubeconfig`, else
`PERFENV_KUBECONFIG`) and an explicit context (`kubernetes.context`), and a deploy is refused
unless that context is listed in `PERFENV_KUBE_CONTEXTS` (comma-separated; unset refuses all, as
the AWS account allowlist does). The program checks this when Pulumi runs it for real (`main`),
and the aws target's preflight before it creates anything; evaluating under mocks touches no
cluster and checks nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from perfenv.infra.config import KubernetesConfig
from perfenv.infra.errors import ConfigError

KUBECONFIG_ENV = "PERFENV_KUBECONFIG"
CONTEXTS_ENV = "PERFENV_KUBE_CONTEXTS"


@dataclass(frozen=True, kw_only=True)
class KubeAccess:
    kubeconfig: str | None = None  # a path or the contents
    context: str | None = None


def kube_access(config: KubernetesConfig, environ: Mapping[str, str] | None = None) -> KubeAccess:
    """The kubeconfig and context the provider is given (unchecked)."""
    env = os.environ if environ is None else environ
    return KubeAccess(
        kubeconfig=config.kubeconfig or env.get(KUBECONFIG_ENV) or None, context=config.context
    )


def allowed_contexts(environ: Mapping[str, str] | None = None) -> set[str]:
    env = os.environ if environ is None else environ
    return {c.strip() for c in env.get(CONTEXTS_ENV, "").split(",") if c.strip()}


def checked_kube_access(
    config: KubernetesConfig, where: str, environ: Mapping[str, str] | None = None
) -> KubeAccess:
    """`kube_access`, refused (ConfigError, one line) unless explicit and allowed."""
    if not config.enabled:
        return KubeAccess()
    access = kube_access(config, environ)
    if access.kubeconfig is None:
        raise ConfigError(
            [
                f"{where}: kubernetes.kubeconfig: no kubeconfig given (set it or "
                f"{KUBECONFIG_ENV}); the ambient one is never used"
            ]
        )
    if access.context is None:
        raise ConfigError(
            [f"{where}: kubernetes.context: no context given; the ambient one is never used"]
        )
    allowed = allowed_contexts(environ)
    if access.context not in allowed:
        listed = ", ".join(sorted(allowed)) or "unset"
        raise ConfigError(
            [
                f"{where}: kubernetes.context: {access.context!r} is not listed in "
                f"{CONTEXTS_ENV} ({listed})"
            ]
        )
    return access
