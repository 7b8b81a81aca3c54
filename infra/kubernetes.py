"""KubernetesApp: the environment's namespace in an existing cluster and the app inside it.

The cluster is the explicit kubeconfig and context of `perfenv.infra.kube_access`.

The namespace is fenced: a ResourceQuota caps it, a LimitRange gives every container default
requests and limits, and network policy denies all ingress except from the ingress namespace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from perfenv.infra.config import (
    AppConfig,
    FleetConfig,
    KubernetesConfig,
    KubernetesQuota,
    QuotaConfig,
)
from perfenv.infra.kube_access import KubeAccess
from perfenv.infra.tags import Tags

SERVICE_PORT = 80
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True, kw_only=True)
class KubernetesAppArgs:
    config: KubernetesConfig
    quotas: QuotaConfig
    app: AppConfig
    fleet: FleetConfig
    tags: Tags
    access: KubeAccess  # explicit kubeconfig and context (perfenv.infra.kube_access)


class KubernetesApp(pulumi.ComponentResource):
    namespace: pulumi.Output[str]
    service_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: KubernetesAppArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("perfenv:infra:KubernetesApp", name, None, opts)
        self._prefix = name
        provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=args.access.kubeconfig,
            context=args.access.context,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._child = pulumi.ResourceOptions(parent=self, provider=provider)
        self._tags = args.tags
        namespace = self._namespace(args.config)
        self._fence(args, namespace)
        deployment = self._deployment(args, namespace)
        service = self._service(args.app, namespace)
        self._autoscaler(args, namespace, deployment)
        self.namespace = namespace
        self.service_url = pulumi.Output.all(service.metadata, namespace).apply(
            lambda v: f"http://{_name(v[0])}.{v[1]}.svc.cluster.local:{SERVICE_PORT}"
        )
        self.register_outputs({"namespace": self.namespace, "service_url": self.service_url})

    def _meta(self, namespace: pulumi.Input[str] | None = None) -> Any:
        """Every object's metadata: perfenv's labels and the expiry annotation."""
        meta: dict[str, Any] = {"labels": self._tags.labels, "annotations": self._tags.annotations}
        return meta if namespace is None else {"namespace": namespace, **meta}

    def _namespace(self, cfg: KubernetesConfig) -> pulumi.Output[str]:
        # Autonamed from the configured name: two ephemeral stacks in one cluster never collide.
        ns = k8s.core.v1.Namespace(cfg.namespace, metadata=self._meta(), opts=self._child)
        return ns.metadata.apply(_name)

    def _fence(self, args: KubernetesAppArgs, namespace: pulumi.Output[str]) -> None:
        """Quota, default container limits, and ingress only from the ingress namespace."""
        quota = args.quotas.kubernetes
        k8s.core.v1.ResourceQuota(
            f"{self._prefix}-quota",
            metadata=self._meta(namespace),
            spec=_quota_spec(quota),
            opts=self._child,
        )
        k8s.core.v1.LimitRange(
            f"{self._prefix}-limits",
            metadata=self._meta(namespace),
            spec=_limit_range_spec(quota),
            opts=self._child,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{self._prefix}-default-deny",
            metadata=self._meta(namespace),
            spec=_k8s({"podSelector": {}, "policyTypes": ["Ingress"]}),
            opts=self._child,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{self._prefix}-allow-ingress",
            metadata=self._meta(namespace),
            spec=_allow_ingress_spec(args.config.ingress_namespace),
            opts=self._child,
        )

    def _deployment(
        self, args: KubernetesAppArgs, namespace: pulumi.Output[str]
    ) -> k8s.apps.v1.Deployment:
        selector = self._selector()
        return k8s.apps.v1.Deployment(
            f"{self._prefix}-app",
            metadata=self._meta(namespace),
            spec=_k8s(
                {
                    "replicas": args.app.replicas,
                    "selector": {"matchLabels": selector},
                    "template": {
                        "metadata": {
                            "labels": {**self._tags.labels, **selector},
                            "annotations": self._tags.annotations,
                        },
                        "spec": {
                            "automountServiceAccountToken": False,
                            "containers": [_container(args.app, args.quotas.kubernetes)],
                        },
                    },
                }
            ),
            opts=self._child,
        )

    def _service(self, app: AppConfig, namespace: pulumi.Output[str]) -> k8s.core.v1.Service:
        return k8s.core.v1.Service(
            f"{self._prefix}-svc",
            metadata=self._meta(namespace),
            spec=_k8s(
                {
                    "selector": self._selector(),
                    "ports": [{"port": SERVICE_PORT, "targetPort": app.port, "name": "http"}],
                }
            ),
            opts=self._child,
        )

    def _autoscaler(
        self,
        args: KubernetesAppArgs,
        namespace: pulumi.Output[str],
        deployment: k8s.apps.v1.Deployment,
    ) -> None:
        """CPU-based horizontal scaling between the app's replicas and max_replicas."""
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{self._prefix}-hpa",
            metadata=self._meta(namespace),
            spec=_k8s(
                {
                    "scaleTargetRef": {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": deployment.metadata.apply(_name),
                    },
                    "minReplicas": args.app.replicas,
                    "maxReplicas": args.app.max_replicas,
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {
                                "name": "cpu",
                                "target": {
                                    "type": "Utilization",
                                    "averageUtilization": int(args.fleet.scaling.cpu_percent),
                                },
                            },
                        }
                    ],
                }
            ),
            opts=self._child,
        )

    def _selector(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self._prefix}


def _quota_spec(quota: KubernetesQuota) -> Any:
    return _k8s(
        {
            "hard": {
                "requests.cpu": quota.cpu,
                "limits.cpu": quota.cpu,
                "requests.memory": quota.memory,
                "limits.memory": quota.memory,
                "pods": str(quota.pods),
            }
        }
    )


def _limit_range_spec(quota: KubernetesQuota) -> Any:
    return _k8s(
        {
            "limits": [
                {
                    "type": "Container",
                    "default": {"cpu": quota.default_cpu, "memory": quota.default_memory},
                    "defaultRequest": {
                        "cpu": quota.default_request_cpu,
                        "memory": quota.default_request_memory,
                    },
                }
            ]
        }
    )


def _allow_ingress_spec(ingress_namespace: str) -> Any:
    source = {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: ingress_namespace}}}
    return _k8s({"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [source]}]})


def _container(app: AppConfig, quota: KubernetesQuota) -> dict[str, Any]:
    """The app's container: limited, probed, unprivileged, read-only root."""
    return {
        "name": "app",
        "image": app.image,
        "ports": [{"containerPort": app.port, "name": "http"}],
        "resources": {
            "limits": {"cpu": app.cpu_limit, "memory": app.memory_limit},
            "requests": {
                "cpu": quota.default_request_cpu,
                "memory": quota.default_request_memory,
            },
        },
        "readinessProbe": {"httpGet": {"path": app.health_path, "port": app.port}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
        },
    }


def _k8s(value: dict[str, Any]) -> Any:
    """A manifest fragment: pulumi_kubernetes' TypedDicts are stricter than literals can say;
    the API server validates the shape."""
    return value


def _name(metadata: Any) -> str:
    return str(metadata["name"] if isinstance(metadata, dict) else metadata.name)
